// The console's page: static HTML, CSS and script, no secret anywhere in them (the CSRF token
// arrives over same-origin JSON, the session cookie is HttpOnly). The script builds every node
// with textContent: hold context is the agent's text and must never become markup.
export const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Airlock approvals</title><link rel="stylesheet" href="/app.css"></head>
<body><header><h1>Airlock approvals</h1><span id="live" class="live">connecting…</span><span id="me"></span>
<form method="post" action="/auth/logout" id="logout"><input type="hidden" name="csrf" id="logout-csrf"><button type="submit">Sign out</button></form></header>
<main><section><h2>Waiting <span id="count"></span></h2><p id="none" class="muted">No request is waiting for a decision.</p><div id="holds"></div></section>
<section><h2>Recent decisions</h2><table id="recent"><thead><tr><th>When</th><th>Decision</th><th>By</th><th>Channel</th><th>Request</th><th>Note</th></tr></thead><tbody></tbody></table></section>
<p id="error" class="error" role="alert"></p></main><script src="/app.js" type="module"></script></body></html>`;

export const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:1em;align-items:center;padding:.8em 1.5em;background:#1d2330;color:#fff}
header h1{font-size:1.2em;margin:0;flex:1}header form{margin:0}.live{font-size:.85em;opacity:.8}
main{padding:1em 1.5em;max-width:1100px}h2{font-size:1.05em}.muted{color:#6b7280}
.hold{background:#fff;border:1px solid #d9dde3;border-left:4px solid #d97706;border-radius:6px;padding:.8em 1em;margin:.8em 0}
.req{font:600 1em ui-monospace,monospace;word-break:break-all}.meta{color:#4b5563;margin:.3em 0}
.meta b{color:#1d2330;font-weight:600}pre{background:#f3f4f6;padding:.5em;max-height:10em;overflow:auto;white-space:pre-wrap;word-break:break-all}
.actions{display:flex;gap:.5em;align-items:center;margin-top:.5em}.actions input{flex:1;padding:.35em}
button{padding:.4em .9em;border-radius:4px;border:1px solid #9ca3af;background:#fff;cursor:pointer}
button.approve{background:#15803d;color:#fff;border-color:#15803d}button.deny{background:#b91c1c;color:#fff;border-color:#b91c1c}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border-bottom:1px solid #e5e7eb;padding:.35em .5em;text-align:left;vertical-align:top}
td.approved{color:#15803d;font-weight:600}td.denied,td.timeout{color:#b91c1c;font-weight:600}.error{color:#b91c1c}`;

export const SCRIPT = `let csrf = '';
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(typeof k === 'string' ? document.createTextNode(k) : k);
  return e;
}
function meta(label, value) { return el('div', { class: 'meta' }, el('b', {}, label + ': '), String(value)); }
function left(deadline) { const s = Math.max(0, Math.round((deadline - Date.now()) / 1000)); return s >= 60 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : s + 's'; }
async function decide(id, verb, words) {
  $('error').textContent = '';
  const r = await fetch('/api/holds/' + encodeURIComponent(id) + '/' + verb, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-airlock-csrf': csrf },
    body: JSON.stringify(verb === 'deny' ? { reason: words } : { note: words }),
  });
  if (!r.ok) { const b = await r.json().catch(() => ({})); $('error').textContent = (b.errors && b.errors[0]) || ('failed: ' + r.status); }
}
function holdCard(h) {
  const rule = h.rule || {};
  const reason = el('input', { type: 'text', placeholder: 'Reason (required to deny, optional note to approve)', maxlength: '500', 'aria-label': 'reason' });
  const approve = el('button', { class: 'approve', type: 'button' }, 'Approve');
  const deny = el('button', { class: 'deny', type: 'button' }, 'Deny');
  approve.onclick = () => decide(h.id, 'approve', reason.value.trim());
  deny.onclick = () => { const w = reason.value.trim(); if (!w) { reason.focus(); $('error').textContent = 'A reason is required to deny.'; return; } decide(h.id, 'deny', w); };
  const claims = Object.entries(h.claims || {}).map(([k, v]) => k + '=' + v).join(', ');
  const card = el('div', { class: 'hold', 'data-hold': h.id },
    el('div', { class: 'req' }, h.method + ' ' + h.url),
    meta('Who', h.sub + ' (grant ' + h.grant + ')'),
    ...(claims ? [meta('Claims', claims)] : []),
    meta('Rule', (rule.reason || ('policy ' + rule.policy + ' rule ' + rule.rule))),
    meta('Runner', h.runner + ', session ' + h.session),
    el('div', { class: 'meta' }, el('b', {}, 'Time left: '), el('span', { class: 'left', 'data-deadline': String(h.deadline) }, left(h.deadline))),
    ...(h.bodyPreview ? [el('pre', {}, h.bodyPreview)] : []),
    el('div', { class: 'actions' }, reason, approve, deny));
  return card;
}
function render(s) {
  const holds = $('holds');
  const typing = new Map([...holds.querySelectorAll('.hold')].map((c) => [c.dataset.hold, c.querySelector('input').value]));
  holds.replaceChildren(...s.pending.map((h) => { const c = holdCard(h); c.querySelector('input').value = typing.get(h.id) || ''; return c; }));
  $('none').hidden = s.pending.length > 0;
  $('count').textContent = s.pending.length ? '(' + s.pending.length + ')' : '';
  $('recent').tBodies[0].replaceChildren(...s.recent.map((r) => el('tr', {},
    el('td', {}, new Date(r.decision.at).toLocaleString()), el('td', { class: r.decision.kind }, r.decision.kind),
    el('td', {}, r.decision.by), el('td', {}, r.decision.channel || ''), el('td', {}, r.hold.method + ' ' + r.hold.url), el('td', {}, r.decision.note || ''))));
}
setInterval(() => { for (const s of document.querySelectorAll('.left')) s.textContent = left(Number(s.dataset.deadline)); }, 1000);
const me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
csrf = me.csrf;
$('logout-csrf').value = csrf;
$('me').textContent = me.name ? me.name + ' <' + me.email + '>' : me.email;
const es = new EventSource('/api/events');
es.addEventListener('update', (e) => { $('live').textContent = 'live'; render(JSON.parse(e.data)); });
es.onerror = () => { $('live').textContent = 'reconnecting…'; };
`;
