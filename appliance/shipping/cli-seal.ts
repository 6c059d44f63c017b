import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { loadOrCreateSigningKey } from '../recording/integrity/index.js';
import { makeSeal } from './seal.js';

/** The seal step for sessions the CLI finalizes itself (close without a server, replay): the server's worker ships them. */
export async function cliSeal(config: Config, log: Logger): Promise<(id: string, harPath: string) => Promise<void>> {
  const { key } = await loadOrCreateSigningKey(config.stateDir);
  return makeSeal({ stateDir: config.stateDir, sessionsDir: join(config.stateDir, 'sessions'), key, ship: config.recording.sink !== null, log });
}
