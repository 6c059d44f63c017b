// Which sessions `airlock sessions ls` shows: pure, on summaries already in memory.
import ms from 'ms';
import type { SessionSummary } from '../journal/index.js';
import { CodedError } from '../../errors.js';

export interface SessionFilter {
  readonly issuer?: string;
  readonly sub?: string;
  readonly grant?: string;
  /** Every pair must match the session's claim exactly (compared as strings). */
  readonly claims?: readonly (readonly [key: string, value: string])[];
  /** Epoch ms: the session was opened at or after. */
  readonly since?: number;
  /** Epoch ms: the session was opened at or before. */
  readonly until?: number;
  readonly status?: 'open' | 'closed';
}

export class FilterError extends CodedError<'BAD_FILTER'> {
  constructor(message: string) {
    super('BAD_FILTER', message);
  }
}

/** "30m", "2d" (that long before now) or an ISO 8601 time, as epoch ms. */
export function parseWhen(text: string, now: number): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(t)) {
    const d = ms(t as ms.StringValue);
    if (typeof d === 'number' && Number.isFinite(d) && d >= 0) return now - d;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const at = Date.parse(t);
    if (Number.isFinite(at)) return at;
  }
  throw new FilterError(`not a duration or an ISO time: ${JSON.stringify(text)} (write e.g. "2h", "7d" or "2026-11-22T10:00:00Z")`);
}

export function parseClaim(text: string): readonly [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new FilterError(`--claim wants KEY=VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function claimString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function matchesFilter(s: SessionSummary, f: SessionFilter): boolean {
  if (f.status !== undefined && s.status !== f.status) return false;
  if (f.issuer !== undefined && s.issuer !== f.issuer) return false;
  if (f.sub !== undefined && s.sub !== f.sub) return false;
  if (f.grant !== undefined && s.grant !== f.grant) return false;
  if (f.since !== undefined || f.until !== undefined) {
    const at = Date.parse(s.openedAt);
    if (!Number.isFinite(at)) return false;
    if (f.since !== undefined && at < f.since) return false;
    if (f.until !== undefined && at > f.until) return false;
  }
  for (const [k, v] of f.claims ?? []) {
    if (claimString(s.claims[k]) !== v) return false;
  }
  return true;
}

/** Newest first; ties by id, newest id first. */
export function newestFirst(a: SessionSummary, b: SessionSummary): number {
  if (a.openedAt === b.openedAt) return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  return a.openedAt < b.openedAt ? 1 : -1;
}

/**
 * What an index line's raw text must contain to be worth parsing: groups of alternatives, every
 * group present (a --claim pair, --issuer, --sub or --grant; a claim may be `"k":"v"` or, for
 * numbers and booleans, `"k":v`). These never change within a session, so skipping its lines
 * is safe. null when there is nothing to look for.
 */
export function linePrefilter(f: SessionFilter): (readonly string[])[] | null {
  const groups: (readonly string[])[] = (f.claims ?? []).map(([k, v]) => [`${JSON.stringify(k)}:${JSON.stringify(v)}`, `${JSON.stringify(k)}:${v}`]);
  for (const field of ['issuer', 'sub', 'grant'] as const) {
    const v = f[field];
    if (v !== undefined) groups.push([`${JSON.stringify(field)}:${JSON.stringify(v)}`]);
  }
  return groups.length > 0 ? groups : null;
}
