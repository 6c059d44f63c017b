import { randomBytes } from 'node:crypto';
import { SessionFileError } from './session-error.js';

// UTC timestamp first so ids sort by opening time; only [0-9TZa-f-], so an id is a safe file name.
export const SESSION_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

export function newSessionId(nowMs: number, random: () => Buffer = () => randomBytes(4)): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${random().toString('hex').slice(0, 8)}`;
}

export function isSessionId(id: string): boolean {
  return SESSION_ID_PATTERN.test(id);
}

/** Validate an id given by a user before it becomes part of any path. */
export function assertSessionId(id: string): void {
  if (!isSessionId(id)) {
    throw new SessionFileError(
      'SESSION_ID_INVALID',
      `not a session id: ${JSON.stringify(id.slice(0, 64))} (expected e.g. 20261122T031500Z-0123abcd; airlock sessions ls lists them)`,
    );
  }
}
