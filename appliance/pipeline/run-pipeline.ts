// The request pipeline for intercepted hosts, in order:
//   canonical request -> identity -> strip -> policy/approval -> inject -> record-begin ->
//   forward -> mask -> record-end, then the response is delivered.
// Each stage returns the exchange with what it established (added onto the one object of the run:
// exchange.ts advance), or a Refusal; the first refusal is
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
  const run: { latest: AnyExchange; refused: Refusal | null } = { latest: parseRequest(arrived, head), refused: null };
  client.onClose(() => writeLine(deps, run.latest, end));

  // The stage's exchange, or null for its refusal, carried out by `refuse`. Synchronous stages are
  // called without `await`: awaiting a value that is not a promise still costs a microtask turn.
  const ok = <X extends AnyExchange>(v: Verdict<X>): X | null => {
    if (v.kind !== 'continue') {
      run.refused = v;
      return null;
    }
    run.latest = v.x;
    return v.x;
  };
  const refuse = async (): Promise<void> => {
    const r = run.refused;
    if (!r) return;
    Object.assign(end, { decision: r.decision, code: r.code }, r.detail !== undefined ? { reason: r.detail } : {});
    end.status = await settleRefusal(deps.sessions, run.latest, r);
  };

  // Stages that can answer at once (a known token, an open session, a journal line written now)
  // return a value; only an answer that waits for I/O is awaited.
  const resolved = resolveIdentity(deps, run.latest);
  const attributed = ok(resolved instanceof Promise ? await resolved : resolved);
  if (!attributed) return refuse();
  const opened = openSession(deps, attributed);
  const identified = ok(opened instanceof Promise ? await opened : opened);
  if (!identified) return refuse();
  const stripped = ok(stripCredentials(identified));
  if (!stripped) return refuse();
  const policed = checkPolicy(deps, stripped);
  const guarded = ok(policed instanceof Promise ? await policed : policed);
  if (!guarded) return refuse();
  const injected = ok(injectCredential(deps, guarded));
  if (!injected) return refuse();
  const beginning = recordBegin(deps.sessions, injected);
  const begun = ok(beginning instanceof Promise ? await beginning : beginning);
  if (!begun) return refuse();
  const forwarded = ok(await forwardUpstream(begun));
  if (!forwarded) return refuse();
  const masked = ok(maskResponse(deps.maxBodyBytes, forwarded));
  if (!masked) return refuse();
  const recording = recordEnd(deps.sessions, masked);
  const recorded = ok(recording instanceof Promise ? await recording : recording);
  if (!recorded) return refuse();

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
