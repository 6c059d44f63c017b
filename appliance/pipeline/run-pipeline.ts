// The request pipeline for intercepted hosts, in order:
//   canonical request -> identity -> strip -> policy/approval -> inject -> record-begin ->
//   forward -> mask -> record-end, then the response is delivered.
// Each stage returns the exchange with what it established, or a Refusal; the first refusal is
// carried out by settleRefusal (recorded, answered) and ends the run. One request log line is
// written when the client's response closes. Nothing here throws out.
import { randomUUID } from 'node:crypto';
import type { RequestHead } from './canonical-request.js';
import type { Decision } from '../lib/decision.js';
import type { AnyExchange, Arrived, Client, PipelineDeps, Target, Verdict } from './exchange.js';
import type { Refusal } from './refusal.js';
import { logRequest, requestLine } from './request-log-line.js';
import { settleRefusal } from './settle-refusal.js';
import { parseRequest } from './1-parse-request.js';
import { openSession, resolveIdentity } from './2-resolve-identity.js';
import { stripCredentials, stripRequest } from './3-strip-credentials.js';
import { checkPolicy } from './4-check-policy.js';
import { injectCredential } from './5-inject-credential.js';
import { recordBegin } from './6-record-begin.js';
import { forwardUpstream } from './7-forward-upstream.js';
import { maskResponse } from './8-mask-response.js';
import { recordEnd } from './9-record-end.js';

/** How the exchange ended, for its log line and metrics. */
interface Ending {
  decision: Decision;
  status?: number;
  code?: string;
  reason?: string;
  bytesOut: number;
  /** HAR connect + send + wait of the upstream exchange. */
  upstreamMs?: number;
  /** Airlock's own time before the response. */
  addedMs?: number;
}

export async function runPipeline(deps: PipelineDeps, target: Target, client: Client, head: RequestHead): Promise<void> {
  const started = deps.now();
  const id = randomUUID();
  const arrived: Arrived = {
    id,
    started,
    startedDateTime: new Date(started).toISOString(),
    httpVersion: `HTTP/${client.req.httpVersion}`,
    method: client.req.method ?? 'GET',
    target,
    client,
    log: target.log.child({ exchange: id.slice(0, 8) }),
    guard: deps.guard,
    secrets: [],
  };
  const end: Ending = { decision: 'refused', bytesOut: 0 };
  let latest: AnyExchange = parseRequest(arrived, head);
  client.onClose(() => writeLine(deps, latest, end));

  /** The stage's exchange, or null once its refusal has been carried out. */
  const next = async <X extends AnyExchange>(verdict: Verdict<X> | Promise<Verdict<X>>): Promise<X | null> => {
    const v = await verdict;
    if (v.kind === 'continue') {
      latest = v.x;
      return v.x;
    }
    await refuse(v);
    return null;
  };
  const refuse = async (r: Refusal): Promise<void> => {
    Object.assign(end, { decision: r.decision, code: r.code }, r.detail !== undefined ? { reason: r.detail } : {});
    end.status = await settleRefusal(deps.sessions, latest, r);
  };

  const attributed = await next(resolveIdentity(deps, latest));
  const identified = attributed && (await next(openSession(deps, attributed)));
  const stripped = identified && (await next(stripCredentials(identified)));
  const guarded = stripped && (await next(checkPolicy(deps, stripped)));
  const injected = guarded && (await next(injectCredential(deps, guarded)));
  const begun = injected && (await next(recordBegin(deps.sessions, injected)));
  const forwarded = begun && (await next(forwardUpstream(begun)));
  const masked = forwarded && (await next(maskResponse(deps.maxBodyBytes, forwarded)));
  const recorded = masked && (await next(recordEnd(deps.sessions, masked)));
  if (!recorded) return;

  const { outcome } = recorded;
  end.decision = recorded.decision;
  end.status = outcome.status;
  // connect includes ssl (HAR); blocked is the pool's wait, Airlock's own.
  end.upstreamMs = Math.max(0, outcome.timings.connect) + Math.max(0, outcome.timings.send) + Math.max(0, outcome.timings.wait);
  end.addedMs = deps.now() - started - end.upstreamMs;
  end.bytesOut = await client.deliver(recorded.shown, recorded.log);
  // A response not read to its end (the client went away) must not leave its socket to the pool.
  if (outcome.rest && !outcome.rest.complete) outcome.rest.destroy();
}

function writeLine(deps: PipelineDeps, x: AnyExchange, end: Ending): void {
  // Before the strip stage ran (identity refused), the path is stripped here for the line alone.
  const stripped = x.stripped ?? stripRequest(x.canon);
  const secrets = x.stripped ? x.secrets : [...x.secrets, ...stripped.removedValues.map((value) => ({ value, label: 'agent credential' }))];
  const durationMs = Math.round((deps.now() - x.started) * 1000) / 1000;
  const line = requestLine({
    method: x.method,
    host: x.target.host,
    stripped: stripped.path,
    decision: end.decision,
    status: end.status ?? x.client.status(),
    code: end.code,
    reason: end.reason,
    who: x.identity && x.attribution ? { session: x.session?.id, sub: x.identity.sub, grant: x.identity.grant, identity: x.attribution } : undefined,
    bytesIn: x.outcome?.requestBody.size,
    bytesOut: end.bytesOut,
    durationMs,
    secrets,
  });
  logRequest(x.log, line);
  deps.metrics?.request(line, end.upstreamMs, end.addedMs ?? durationMs);
}
