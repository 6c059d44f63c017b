// What one recorded exchange did, as every reader of a recording must tell it: whether the
// request reached Datadog and the recorded response is Datadog's, or Airlock answered it itself
// (and with which code), or it is not known. Replay and policy suggest act only on the first.
import type { HarEntry } from './har-types.js';

export type EntryOutcome =
  /** Sent to Datadog, and the recorded response is Datadog's. */
  | { readonly kind: 'datadog'; readonly approved: boolean; readonly report: 'deny' | 'approve' | null }
  /** Airlock answered it (refusal); nothing was sent upstream. */
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string }
  /** Sent, or maybe sent, but Datadog's answer is not in the recording. */
  | { readonly kind: 'incomplete'; readonly reason: string };

/** `_airlock.code`, or `errorCode` in recordings made before `code` existed. */
export function codeOf(e: HarEntry): string | undefined {
  const a = e._airlock;
  return typeof a?.code === 'string' ? a.code : typeof a?.errorCode === 'string' ? a.errorCode : undefined;
}

export function entryOutcome(e: HarEntry): EntryOutcome {
  const a = e._airlock;
  const code = codeOf(e);
  const status = Number(e.response?.status ?? 0);
  if (a?.forwarded === false) {
    return { kind: 'refused', code: code ?? 'refused', reason: `refused by Airlock when recorded (${code ?? a.decision}): it never reached Datadog` };
  }
  if (a?.forwarded !== true) {
    // A recording from before `_airlock.forwarded`: a refusal then looked like status 0; nothing proves it was sent.
    return code !== undefined || a?.decision === 'refused' || a?.decision === 'denied'
      ? {
          kind: 'refused',
          code: code ?? String(a?.decision),
          reason: `refused by Airlock when recorded (${code ?? String(a?.decision)}): it never reached Datadog`,
        }
      : { kind: 'incomplete', reason: 'the recording does not say whether it reached Datadog (no _airlock.forwarded: made by an older Airlock)' };
  }
  if (code !== undefined) return { kind: 'incomplete', reason: `Datadog's answer is not recorded (${code})` };
  if (!(status > 0)) return { kind: 'incomplete', reason: 'no completed response was recorded' };
  const d = String(a.decision);
  return { kind: 'datadog', approved: d === 'approved', report: d === 'report-deny' ? 'deny' : d === 'report-approve' ? 'approve' : null };
}
