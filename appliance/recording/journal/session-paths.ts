import { join } from 'node:path';
import { assertSessionId } from './session-id.js';

export interface SessionPaths {
  readonly journal: string;
  readonly har: string;
  readonly harTmp: string;
  readonly meta: string;
  /** The detached JWS over the HAR's bytes (sign-har.ts). */
  readonly sig: string;
}

/** Every path of a session; the id is checked first so no caller builds a path from a bad id. */
export function sessionPaths(sessionsDir: string, id: string): SessionPaths {
  assertSessionId(id);
  return {
    journal: join(sessionsDir, `${id}.jsonl`),
    har: join(sessionsDir, `${id}.har`),
    harTmp: join(sessionsDir, `${id}.har.tmp`),
    meta: join(sessionsDir, `${id}.meta.json`),
    sig: join(sessionsDir, `${id}.har.sig`),
  };
}
