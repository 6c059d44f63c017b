// `airlock policy suggest`: the YAML for a recorded session's entries. Rules come only from
// exchanges that reached Datadog (recording/entry-outcome.ts); refusals and exchanges of unknown
// outcome become comments, so a suggestion never opens what policy or a person refused.
import { stringify } from 'yaml';
import { codeOf, entryOutcome, type HarEntry } from '../recording/har/index.js';
import { suggestRules, type SeenRequest } from './suggest-policy.js';

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

export function suggestionText(sessionId: string, entries: readonly HarEntry[], name: string): string {
  const seen: SeenRequest[] = [];
  const notes = new Set<string>();
  let forwarded = 0;
  let approved = 0;
  let refused = 0;
  let unknown = 0;
  for (const e of entries) {
    const method = String(e.request?.method ?? '?').toUpperCase();
    const url = String(e.request?.url ?? '');
    const o = entryOutcome(e);
    if (o.kind === 'refused') {
      refused += 1;
      notes.add(`# refused (no rule): ${method} ${pathOf(url)} ${Number(e.response?.status ?? 0)} ${o.code}`);
      continue;
    }
    if (o.kind === 'incomplete') {
      unknown += 1;
      notes.add(`# not known to have reached Datadog (no rule): ${method} ${pathOf(url)}: ${o.reason}`);
      continue;
    }
    forwarded += 1;
    if (o.report === 'deny') {
      // Forwarded only because its deny rule was in report mode: the policy means to refuse it.
      notes.add(`# forwarded under a report-mode deny (no rule): ${method} ${pathOf(url)} ${codeOf(e) ?? ''}`.trimEnd());
      continue;
    }
    const action = o.approved || o.report === 'approve' ? 'approve' : 'allow';
    if (o.approved) approved += 1;
    seen.push({ method, url, action });
  }
  const rules = suggestRules(seen);
  const counts =
    `# ${entries.length} exchanges: ${forwarded} forwarded (${approved} after approval), ${refused} refused` +
    (unknown > 0 ? `, ${unknown} of unknown outcome` : '') +
    `; ${rules.length} rules`;
  const yaml = stringify(
    { policies: { [name]: { default: 'deny', rules: rules.map((r) => ({ match: r.match, action: r.action })) } } },
    { flowCollectionPadding: false },
  );
  return [`# rules for what session ${sessionId} got from Datadog; everything else stays denied`, counts, ...notes, yaml].join('\n');
}
