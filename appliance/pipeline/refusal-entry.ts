// The journal entry of a refused or failed exchange: what the client was answered
// (recording/refusal-response.ts, the same bytes respondError writes) and everything the stages
// before the refusal established. Pure.
import { refusalResponse } from '../recording/journal/index.js';
import type { Exchange, ExchangeAirlock, ExchangeTimings } from '../lib/exchange-types.js';
import { toPairs } from '../lib/headers.js';
import type { AnyExchange, Identified } from './exchange.js';
import type { Refusal } from './refusal.js';

/** No phase happened: Airlock answered before (or instead of) a connection upstream. */
const NO_TIMINGS: ExchangeTimings = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 };

export function refusalEntry(x: AnyExchange & Identified, r: Refusal): Exchange {
  const rule = r.rule ?? x.rule;
  const approval = r.approval ?? x.approval;
  const airlock: ExchangeAirlock = {
    decision: r.decision,
    code: r.code,
    errorCode: r.code,
    forwarded: r.sent?.forwarded ?? false,
    ...(rule ? { rule: { ...rule } } : {}),
    ...(approval ? { approval } : {}),
    grant: x.identity.grant,
    credential: x.identity.credential,
    session: x.session.id,
    identity: x.attribution,
    stripped: x.stripped?.stripped ?? [],
    injected: x.injected ?? [],
  };
  const error = r.error ?? (r.answer ? undefined : `refused by Airlock: ${r.code}`);
  return {
    id: x.id,
    startedDateTime: x.startedDateTime,
    request: {
      method: x.method,
      // Before the strip stage (an unparsed request) no target is recorded: it may hold a key.
      url: x.url ?? `https://${x.target.host}/`,
      httpVersion: x.httpVersion,
      // The headers as far as the request got: forwarded (injected), stripped, or none.
      headers: toPairs(x.headers ?? x.stripped?.rawHeaders ?? []),
      body: r.sent?.requestBody ?? null,
    },
    response: r.answer ? refusalResponse(r.answer, x.httpVersion) : null,
    ...(error !== undefined ? { error } : {}),
    timings: r.sent?.timings ?? NO_TIMINGS,
    airlock,
  };
}
