// Datadog answering 403 to a request that carried a vaulted key: after a rotation that is the
// sign of a wrong or revoked new key. The request is not retried with a previous key (a write is
// not idempotent, and a blind retry could apply it twice); it is logged and counted per credential.
import type { Logger } from '../log.js';

const counts = new Map<string, number>();

/** Counts a 403 for `credential` and logs it (names and counts, never a key). */
export function noteKeyRefused(log: Logger, credential: string, hasPrevious: boolean): void {
  const n = (counts.get(credential) ?? 0) + 1;
  counts.set(credential, n);
  log.warn(
    { code: 'UPSTREAM_FORBIDDEN', credential, refusals: n, rotated: hasPrevious },
    hasPrevious
      ? `Datadog refused the current key of ${credential} (403), not retried: check the key \`airlock vault rotate\` made current`
      : `Datadog refused the key of ${credential} (403), not retried`,
  );
}
