// What happens to a HAR once finalized, before its journal is removed: sign it, and queue it for
// the sink when one is configured. Shared by the server, `sessions close` and `replay`.
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../lib/file-io.js';
import { sessionPaths } from '../recording/journal/index.js';
import { MAX_SIGNED_HAR_BYTES, signHar, type SigningKey } from '../recording/integrity/index.js';
import { enqueue } from './outbox.js';

export interface SealOptions {
  readonly stateDir: string;
  readonly sessionsDir: string;
  readonly key: SigningKey;
  readonly ship: boolean;
  readonly log: Logger;
  readonly now?: () => number;
  /** Called once an item is queued (the worker can start at once). */
  readonly queued?: () => void;
}

export function makeSeal(o: SealOptions): (id: string, harPath: string) => Promise<void> {
  return async (id, harPath) => {
    const { size } = await stat(harPath);
    if (size > MAX_SIGNED_HAR_BYTES) {
      o.log.error({ session: id, bytes: size }, 'HAR too large to sign: it is kept unsigned, and verify will say so');
    } else {
      const jws = await signHar(await readFile(harPath), o.key);
      await writeFileAtomic(sessionPaths(o.sessionsDir, id).sig, `${jws}\n`, { sync: true });
    }
    if (o.ship) {
      await enqueue(o.stateDir, id, (o.now ?? Date.now)());
      o.queued?.();
    }
  };
}
