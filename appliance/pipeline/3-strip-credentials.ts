// Stage 3, strip: every Datadog credential the agent supplied is removed (headers, query, path,
// cookies, URL userinfo), so only the vaulted key can reach upstream and no record or log line
// carries the agent's. Refuses only the request the canonical stage could not parse.
import { AirlockError } from '../errors.js';
import { stripAgentCredentials, type StripResult } from '../credentials/strip-agent-credentials.js';
import type { CanonicalRequest } from './canonical-request.js';
import { advance, proceed, type Identified, type Stripped, type Verdict } from './exchange.js';
import { refusal } from './refusal.js';

/** Refusal codes: BAD_REQUEST, HOST_MISMATCH (from the canonical stage). */
export function stripCredentials(x: Identified): Verdict<Stripped> {
  if (!x.canon) return refusal(x.unparsed ?? new AirlockError('BAD_REQUEST'));
  const stripped = stripRequest(x.canon);
  // The first label that matches a value wins: an identity token stays named as such.
  const secrets = [...x.secrets, ...stripped.removedValues.map((value) => ({ value, label: 'agent credential' }))];
  return proceed(advance(x, { canon: x.canon, stripped, url: `https://${x.target.host}${stripped.path}`, secrets }));
}

/** The canonical request without credentials; pure (the log line uses it for requests refused before this stage). */
export function stripRequest(canon: CanonicalRequest | null): StripResult {
  const s = stripAgentCredentials({ path: canon?.target ?? '/', rawHeaders: canon?.headers ?? [] });
  return { ...s, stripped: [...(canon?.stripped ?? []), ...s.stripped], removedValues: [...(canon?.removedValues ?? []), ...s.removedValues] };
}
