// Thin wrappers that measure what the pipeline already does, so that no stage has to know about
// metrics: journal writes through the sessions port, and identity fetches through fetchJson.
import type { SessionsPort } from '../pipeline/ports.js';
import type { AirlockMetrics } from './metrics.js';

export function instrumentSessions(s: SessionsPort, m: AirlockMetrics, now: () => number): SessionsPort {
  // A write that is done when the call returns (undefined) is counted at once and stays
  // synchronous, so the pipeline goes on in the same turn (pipeline/ports.ts).
  const timed = (op: 'begin' | 'record', run: () => Promise<void> | undefined): Promise<void> | undefined => {
    const t = now();
    let written: Promise<void> | undefined;
    try {
      written = run();
    } catch (err) {
      m.journal(op, now() - t, false);
      throw err;
    }
    if (written === undefined) {
      m.journal(op, now() - t, true);
      return undefined;
    }
    return written.then(
      () => {
        m.journal(op, now() - t, true);
      },
      (err: unknown) => {
        m.journal(op, now() - t, false);
        throw err;
      },
    );
  };
  return {
    ensure: (identity) => s.ensure(identity),
    begin: (id, b, secrets) => timed('begin', () => s.begin(id, b, secrets)),
    record: (id, ex, secrets) => timed('record', () => s.record(id, ex, secrets)),
  };
}

/** Counts failed discovery and JWKS fetches. */
export function countFailures<A extends unknown[], R>(fetch: (...a: A) => Promise<R>, onFailure: () => void): (...a: A) => Promise<R> {
  return async (...a) => {
    try {
      return await fetch(...a);
    } catch (err) {
      onFailure();
      throw err;
    }
  };
}
