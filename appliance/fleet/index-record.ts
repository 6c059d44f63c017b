// The compact per-session record shipped to `index/YYYY/MM/DD/<id>.json` (layout.ts): who (the
// identity claims), which grant, how many exchanges and what became of them, how many bytes, when.
// Built from the finalized HAR in the outbox worker, never on the request path. It is a
// SessionSummary too, so the local filters (filter-sessions.ts) apply to it unchanged.
import { harEntriesOf } from '../recording/har/index.js';
import type { SessionSummary } from '../recording/journal/index.js';

const INDEX_RECORD_VERSION = 1;

export interface IndexRecord extends SessionSummary {
  readonly v: number;
  /** Exchanges by Airlock decision (forwarded, refused, error, ...). */
  readonly decisions: Readonly<Record<string, number>>;
  /** Responses by status class ("2xx"... "none" for no response). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly bytes: { readonly requestBody: number; readonly responseBody: number };
  /** The signing key's id (keys/<kid>.jwk) and the appliance that recorded it. */
  readonly kid: string | null;
  readonly appliance: Readonly<Record<string, string>>;
}

export async function buildIndexRecord(
  summary: SessionSummary,
  harPath: string,
  kid: string | null,
  appliance: Readonly<Record<string, string>>,
): Promise<IndexRecord> {
  const decisions: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let requestBody = 0;
  let responseBody = 0;
  let n = 0;
  for await (const e of harEntriesOf(harPath)) {
    n++;
    const d = typeof e._airlock?.decision === 'string' ? e._airlock.decision : 'unknown';
    decisions[d] = (decisions[d] ?? 0) + 1;
    const st = e.response?.status;
    const cls = typeof st === 'number' && st >= 100 ? `${Math.floor(st / 100)}xx` : 'none';
    statuses[cls] = (statuses[cls] ?? 0) + 1;
    if (e.request?.bodySize > 0) requestBody += e.request.bodySize;
    if (e.response?.bodySize > 0) responseBody += e.response.bodySize;
  }
  const { shippedAt: _shipped, ...rest } = summary;
  return { ...rest, entryCount: n, v: INDEX_RECORD_VERSION, decisions, statuses, bytes: { requestBody, responseBody }, kid, appliance };
}

/** What a record read back from the sink must have to be filtered and shown; null if it is not one. */
export function parseIndexRecord(text: string): IndexRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const ok =
    typeof o['id'] === 'string' &&
    typeof o['openedAt'] === 'string' &&
    typeof o['claims'] === 'object' &&
    o['claims'] !== null &&
    typeof o['entryCount'] === 'number';
  return ok ? (v as IndexRecord) : null;
}
