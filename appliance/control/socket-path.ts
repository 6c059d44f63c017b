import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/** control.socket, else `<stateDir>/control.sock` (only the service user can reach that one). */
export function controlSocketPath(config: Pick<Config, 'stateDir' | 'control'>): string {
  return config.control.socket ?? join(config.stateDir, 'control.sock');
}
