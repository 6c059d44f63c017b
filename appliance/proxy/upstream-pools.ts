// One upstream connection pool per recording session: a socket that carried one session's
// vaulted key is never reused for another's request, so even a desync the framing checks missed
// cannot splice one session's request into another's (issue #11, finding 1, defence in depth).
// Every agent shares the one TLS secure context built at start (the roots are parsed once): a
// session pays one handshake per upstream socket it opens, then reuses it like before.
import https from 'node:https';
import type tls from 'node:tls';

export interface UpstreamPoolOptions {
  readonly secureContext: tls.SecureContext;
  /** Idle upstream sockets close after this; also the agent's socket timeout. */
  readonly socketTimeoutMs: number;
}

export class UpstreamPools {
  private readonly agents = new Map<string, https.Agent>();
  private readonly opts: UpstreamPoolOptions;

  constructor(opts: UpstreamPoolOptions) {
    this.opts = opts;
  }

  /** The session's agent, created on its first request. */
  agentFor(sessionId: string): https.Agent {
    let agent = this.agents.get(sessionId);
    if (!agent) {
      agent = new https.Agent({
        keepAlive: true,
        keepAliveMsecs: 1000,
        maxSockets: 256,
        maxFreeSockets: 64,
        timeout: this.opts.socketTimeoutMs,
        scheduling: 'lifo',
        // System roots plus the operator's extra CA (see server.ts); verification is never off.
        secureContext: this.opts.secureContext,
        rejectUnauthorized: true,
      });
      this.agents.set(sessionId, agent);
    }
    return agent;
  }

  /** The session closed (or went idle and was closed): its upstream sockets go with it. */
  release(sessionId: string): void {
    const agent = this.agents.get(sessionId);
    if (!agent) return;
    this.agents.delete(sessionId);
    agent.destroy();
  }

  releaseAll(): void {
    for (const id of [...this.agents.keys()]) this.release(id);
  }

  get size(): number {
    return this.agents.size;
  }
}
