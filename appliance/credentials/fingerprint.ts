import { createHash } from 'node:crypto';

/** First 8 hex chars of sha256: enough to tell keys apart in `vault ls`, useless to an attacker. */
export function fingerprint(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 8);
}
