// Stage 2, identity: who sends this request (the job's token, a login session, or the host's
// ambient binding), which grant it has, and the recording session it belongs to. Refusals here
// are answered, never recorded: there is no session to record them in.
import { AirlockError } from '../errors.js';
import { findToken } from '../identity/carriers.js';
import { attributionOf } from '../identity/attribution.js';
import type { Identity } from '../identity/types.js';
import type { SessionMeta } from '../lib/exchange-types.js';
import type { IdentityPort, SessionsPort } from './ports.js';
import { advance, proceed, type Attributed, type Identified, type Parsed, type Verdict } from './exchange.js';
import { asAirlockError, refusal, type Refusal } from './refusal.js';

export interface IdentityDeps {
  readonly identity: IdentityPort;
  readonly sessions: SessionsPort;
}

/**
 * Refusal codes: TOKEN_MISSING, and the identity port's (TOKEN_INVALID, TOKEN_EXPIRED, NO_GRANT, ISSUER_UNAVAILABLE, ...); a surprise is INTERNAL.
 * The verdict is a value when the port knows the identity now (a cached JWT verdict, a session
 * token, the ambient binding), a promise only while a token is verified.
 */
export function resolveIdentity(deps: Pick<IdentityDeps, 'identity'>, x: Parsed): Verdict<Attributed> | Promise<Verdict<Attributed>> {
  try {
    const found = findToken({
      proxyAuthorization: x.target.proxyAuthorization,
      rawHeaders: x.client.req.rawHeaders,
      sessionOf: (v) => deps.identity.sessionOf?.(v) ?? null,
    });
    // A request that carries a token is judged by it; only one carrying none may fall to the host's binding.
    const ambient = found ? null : (deps.identity.ambient?.() ?? null);
    if (!found && !ambient) throw new AirlockError('TOKEN_MISSING');
    const token = found?.token ?? '';
    const identity = ambient ?? deps.identity.resolve(token);
    return identity instanceof Promise ? attributeLater(x, identity, token) : attribute(x, identity, token);
  } catch (err) {
    return unrecorded(x, err);
  }
}

function attribute(x: Parsed, identity: Identity, token: string): Verdict<Attributed> {
  const secrets = token !== '' ? [{ value: token, label: 'identity token' }, ...x.secrets] : x.secrets;
  return proceed(advance(x, { identity, attribution: attributionOf(identity), secrets }));
}

async function attributeLater(x: Parsed, identity: Promise<Identity>, token: string): Promise<Verdict<Attributed>> {
  try {
    return attribute(x, await identity, token);
  } catch (err) {
    return unrecorded(x, err);
  }
}

/**
 * The identity's recording session, opened on its first request. Refusal codes: SHUTTING_DOWN, RECORDING_FAILED (the store's).
 * A value when the session is open already.
 */
export function openSession(deps: Pick<IdentityDeps, 'sessions'>, x: Attributed): Verdict<Identified> | Promise<Verdict<Identified>> {
  try {
    const session = deps.sessions.ensure(x.identity);
    return session instanceof Promise ? openLater(x, session) : proceed(advance(x, { session }));
  } catch (err) {
    return unrecorded(x, err);
  }
}

async function openLater(x: Attributed, session: Promise<SessionMeta>): Promise<Verdict<Identified>> {
  try {
    return proceed(advance(x, { session: await session }));
  } catch (err) {
    return unrecorded(x, err);
  }
}

function unrecorded(x: Parsed, err: unknown): Refusal {
  if (!(err instanceof AirlockError)) x.log.error({ err }, 'identity stage failed');
  return refusal(asAirlockError(err, 'INTERNAL'), { record: false });
}
