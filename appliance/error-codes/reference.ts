// docs/errors.md, rendered from the error table: the reference cannot drift from the code
// (scripts/docs-errors.mjs writes it; test/unit/errors/error-reference.test.ts fails when the
// committed file differs).
import { errorEntries, type ErrorArea } from './index.js';

const SECTIONS: readonly { readonly area: ErrorArea; readonly title: string; readonly intro: string }[] = [
  {
    area: 'proxy',
    title: 'Proxy answers',
    intro:
      'What a client of the proxy (a CI job, an agent, a Datadog client) is answered. A status of — means the code is recorded in the HAR entry or logged, never answered.',
  },
  {
    area: 'operator',
    title: 'Operator: CLI, control socket and approval console',
    intro:
      "The control socket and the approval console answer in the same shape as the proxy. The CLI prints `airlock: CODE: message` on stderr and exits 1 (2 for a usage mistake); for a code with a status, the message is the server's answer.",
  },
  {
    area: 'config',
    title: 'Config and state files',
    intro:
      'Reported by `airlock serve` at start (it does not start), `airlock check-config`, `airlock reload` and the vault commands, as `airlock: CODE: message`.',
  },
];

// Prose kept with the table since the README's error section: what a refusal looks like in the log.
const LOG_SECTION = [
  '## The request log',
  '',
  'No stack trace ever reaches a client. The server log is pino JSON on stdout with one canonical',
  'line per request (`msg: "request"`: session, sub, grant, `identity` (issuer, sub, `auth`: jwt,',
  'session-token or ambient, and for GitHub repository, repository_id, workflow_ref, run_id,',
  'run_attempt, actor, event_name; for GitLab project_path, project_id, pipeline_id, job_id,',
  'user_login), method, host, path, status, bytesIn, bytesOut, durationMs, decision, code, and `reason`:',
  'the detail the client was told with the code; appliance/pipeline/request-log-line.ts builds it).',
  'A request refused before the pipeline (`HOST_MISMATCH` inside a tunnel) and plain-HTTP passthrough',
  'log the same line without identity and path. Credentials never appear',
  'in it: the path (and a CONNECT target) is logged with any JWT, `alk_` session token, key-shaped',
  'value (see [Sessions and HAR files](sessions-and-audit.md#sessions-and-har-files)) and known secret replaced by',
  "`[redacted:...]`. Each HAR entry's `_airlock` carries the same `session` and `identity`.",
];

/** A table cell: one line, pipes escaped, and `<x>` outside code spans kept visible (not read as HTML). */
function cell(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
  return oneLine
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;').replace(/>/g, '&gt;') : part))
    .join('`');
}

export function renderErrorReference(): string {
  const entries = errorEntries();
  const out: string[] = [
    '# Error codes',
    '',
    '<!-- Generated from appliance/error-codes/*.ts by `npm run docs:errors`; do not edit by hand. -->',
    '',
    'Every error Airlock reports carries one stable code from one table (`appliance/error-codes/`). Its',
    "HTTP refusals use Datadog's error shape: the status, a JSON body",
    '`{"errors":["airlock: <what happened and what to do>"]}` and a header `X-Airlock-Error: <CODE>`',
    '(`TOKEN_MISSING` adds `Proxy-Authenticate: Bearer realm="airlock"`, `RATE_LIMITED` a `Retry-After`).',
    "The message is the table's, followed by a detail for the case in parentheses; no stack trace and no",
    'secret ever reaches a client.',
  ];
  for (const s of SECTIONS) {
    out.push('', `## ${s.title}`, '', s.intro, '', '| code | status | message (what happened, what to do) | covers |', '|---|---|---|---|');
    for (const e of entries) {
      if (e.area !== s.area) continue;
      out.push(`| \`${e.code}\` | ${e.spec.status ?? '—'} | ${cell(e.spec.message)} | ${cell(e.spec.doc ?? '')} |`);
    }
  }
  out.push('', ...LOG_SECTION);
  return `${out.join('\n')}\n`;
}
