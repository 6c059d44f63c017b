// The entry rows `airlock sessions show` prints: what each exchange was and what the client got.
import { codeOf, sessionEntries } from '../recording/har/index.js';

export interface EntryRow {
  /** Counted from 1, as `sessions grep` numbers them. */
  readonly n: number;
  readonly startedDateTime: string;
  readonly method: string;
  readonly url: string;
  /** What the client got (Airlock's own answer for a refusal); 0: no answer. */
  readonly status: number;
  readonly decision: string;
  readonly code?: string;
  readonly forwarded?: boolean;
}

export async function entryRows(sessionsDir: string, id: string): Promise<EntryRow[]> {
  const rows: EntryRow[] = [];
  let n = 0;
  for await (const e of sessionEntries(sessionsDir, id)) {
    n += 1;
    const code = codeOf(e);
    rows.push({
      n,
      startedDateTime: String(e.startedDateTime),
      method: String(e.request?.method ?? '?'),
      url: String(e.request?.url ?? ''),
      status: Number(e.response?.status ?? 0),
      decision: String(e._airlock?.decision ?? 'unknown'),
      ...(code !== undefined ? { code } : {}),
      ...(typeof e._airlock?.forwarded === 'boolean' ? { forwarded: e._airlock.forwarded } : {}),
    });
  }
  return rows;
}

/** At most `max` lines at a terminal; the rest is one command away. */
export function entryLines(rows: readonly EntryRow[], id: string, max = 500): string[] {
  if (rows.length === 0) return ['  (none)'];
  const w = (k: (r: EntryRow) => string): number => Math.max(...rows.slice(0, max).map((r) => k(r).length));
  const mw = w((r) => r.method);
  const uw = w((r) => r.url);
  const lines = rows
    .slice(0, max)
    .map(
      (r) =>
        `  #${String(r.n).padEnd(4)} ${r.startedDateTime}  ${r.method.padEnd(mw)}  ${r.url.padEnd(uw)}  ${String(r.status).padEnd(3)}  ${r.decision}${r.code ? ` ${r.code}` : ''}`,
    );
  if (rows.length > max) lines.push(`  ... ${rows.length - max} more: airlock sessions show ${id} --json, or airlock sessions grep --session ${id}`);
  return lines;
}
