// Caps on client connections and on the response bytes Airlock holds for clients that have not
// read them yet. Without them, one job opening many connections and never reading its responses
// grows Airlock's memory without bound (issue #11: 300 unread 3 MB responses, +600 MB RSS).
import type { Duplex } from 'node:stream';
import { AirlockError } from '../errors.js';

export interface LimitsConfig {
  readonly maxConnections: number;
  readonly maxConnectionsPerSession: number;
  readonly maxInflightBytesPerConnection: number;
  readonly maxInflightBytesPerSession: number;
}

export type Admission = { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly error: AirlockError };

/**
 * Stream buffers an exchange can fill besides the bytes forward() holds: the last chunk read past
 * recording.maxBodyBytes, the paused upstream response, the decode/mask/count stages and the
 * client's response stream (16 KiB high-water marks each), rounded up.
 */
export const STREAM_SLACK_BYTES = 256 * 1024;

interface ConnectionUse {
  inflight: number;
  readonly sessions: Set<string>;
  /** Releases of this connection's exchanges not yet released: the socket's close runs them. */
  readonly pending: Set<() => void>;
}

export class Limits {
  private open = 0;
  private readonly connections = new WeakMap<Duplex, ConnectionUse>();
  private readonly sessionConnections = new Map<string, number>();
  private readonly sessionInflight = new Map<string, number>();

  /**
   * @param exchangeBytes what one exchange may hold before its client takes it: forward() reads
   *   up to recording.maxBodyBytes ahead, plus STREAM_SLACK_BYTES. Reserved whole when the
   *   exchange is admitted (so concurrent admissions cannot all pass on an empty count) and
   *   released when its response has been handed to the client's connection, or it ends.
   */
  constructor(
    private readonly cfg: LimitsConfig,
    private readonly exchangeBytes: number,
  ) {}

  /** A new client connection on a listener; false when over limits.maxConnections. */
  openConnection(socket: Duplex): boolean {
    if (this.open >= this.cfg.maxConnections) return false;
    this.open++;
    socket.once('close', () => this.open--);
    return true;
  }

  get openConnections(): number {
    return this.open;
  }

  /**
   * Before an exchange is forwarded: counts `socket` as one of the session's connections (once)
   * and reserves the exchange's bytes on the connection and the session. `release` undoes the
   * reservation (idempotent); the connection count goes when the socket closes, and so does every
   * reservation not yet released (a pipelined response still queued behind another never emits
   * 'close'). One close listener per connection, not one per exchange: a kept-alive connection
   * would otherwise hold a closure per request it ever carried.
   */
  admit(socket: Duplex, session: string): Admission {
    let use = this.connections.get(socket);
    if (!use) {
      use = { inflight: 0, sessions: new Set(), pending: new Set() };
      this.connections.set(socket, use);
      const u = use;
      socket.once('close', () => {
        for (const release of [...u.pending]) release();
        for (const s of u.sessions) this.dec(this.sessionConnections, s, 1);
        u.sessions.clear();
      });
    }
    if (!use.sessions.has(session)) {
      const n = this.sessionConnections.get(session) ?? 0;
      if (n >= this.cfg.maxConnectionsPerSession) {
        return { ok: false, error: new AirlockError('CONNECTION_LIMIT', `this session has ${n} connections open`, { headers: { 'retry-after': '1' } }) };
      }
      if (socket.destroyed) return { ok: false, error: new AirlockError('CONNECTION_LIMIT', 'the connection is closed') };
      this.sessionConnections.set(session, n + 1);
      use.sessions.add(session);
    }
    const bytes = this.exchangeBytes;
    const onSession = this.sessionInflight.get(session) ?? 0;
    if (use.inflight + bytes > this.cfg.maxInflightBytesPerConnection) {
      return { ok: false, error: new AirlockError('INFLIGHT_LIMIT', `${use.inflight} bytes held on this connection`, { headers: { 'retry-after': '1' } }) };
    }
    if (onSession + bytes > this.cfg.maxInflightBytesPerSession) {
      return { ok: false, error: new AirlockError('INFLIGHT_LIMIT', `${onSession} bytes held for this session`, { headers: { 'retry-after': '1' } }) };
    }
    use.inflight += bytes;
    this.sessionInflight.set(session, onSession + bytes);
    const u = use;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      u.pending.delete(release);
      u.inflight -= bytes;
      this.dec(this.sessionInflight, session, bytes);
    };
    u.pending.add(release);
    return { ok: true, release };
  }

  private dec(map: Map<string, number>, key: string, by: number): void {
    const n = (map.get(key) ?? 0) - by;
    if (n > 0) map.set(key, n);
    else map.delete(key);
  }
}
