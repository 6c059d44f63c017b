// Stage 2, identity: who sends this request (the job's token, a login session, or the host's
// ambient binding), which grant it has, and the recording session it belongs to. Refusals here
// are answered, never recorded: there is no session to record them in.
import { AirlockError } from '../errors.js';
import { findToken } from '../identity/carriers.js';
import { attributionOf } from '../identity/attribution.js';
import type { IdentityPort, SessionsPort } from './ports.js';
import { advance, proceed, type Attributed, type Identified, type Parsed, type Verdict } from './exchange.js';
import { asAirlockError, refusal, type Refusal } from './refusal.js';

export interface IdentityDeps {
  readonly identity: IdentityPort;
  readonly sessions: SessionsPort;
}

/** Refusal codes: TOKEN_MISSING, and the identity port's (TOKEN_INVALID, TOKEN_EXPIRED, NO_GRANT, ISSUER_UNAVAILABLE, ...); a surprise is INTERNAL. */
export async function resolveIdentity(deps: Pick<IdentityDeps, 'identity'>, x: Parsed): Promise<Verdict<Attributed>> {
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
    const identity = ambient ?? (await deps.identity.resolve(token));
    const secrets = token !== '' ? [{ value: token, label: 'identity token' }, ...x.secrets] : x.secrets;
    return proceed(advance(x, { identity, attribution: attributionOf(identity), secrets }));
  } catch (err) {
    return unrecorded(x, err);
  }
}

/** The identity's recording session, opened on its first request. Refusal codes: SHUTTING_DOWN, RECORDING_FAILED (the store's). */
export async function openSession(deps: Pick<IdentityDeps, 'sessions'>, x: Attributed): Promise<Verdict<Identified>> {
  try {
    return proceed(advance(x, { session: await deps.sessions.ensure(x.identity) }));
  } catch (err) {
    return unrecorded(x, err);
  }
}

function unrecorded(x: Parsed, err: unknown): Refusal {
  if (!(err instanceof AirlockError)) x.log.error({ err }, 'identity stage failed');
  return refusal(asAirlockError(err, 'INTERNAL'), { record: false });
}
