// Stage 5, inject: the grant's vaulted key replaces whatever the agent had (already stripped),
// once the connection is admitted under the per-session caps (proxy/limits.ts); Host and the
// framing are set last, as they are forwarded and recorded.
import { AirlockError } from '../errors.js';
import { injectCredential as addVaultKey } from '../credentials/inject-credential.js';
import type { VaultEntry } from '../credentials/types.js';
import { setHeader } from '../lib/headers.js';
import { frameHeaders, upstreamFraming } from './frame-headers.js';
import { credentialSecrets } from './exchange-secrets.js';
import type { Limits } from '../lib/limits.js';
import type { VaultPort } from './ports.js';
import { advance, proceed, type Guarded, type Injected, type Verdict } from './exchange.js';
import { refusal } from './refusal.js';

export interface InjectDeps {
  readonly vault: VaultPort;
  readonly limits?: Limits | undefined;
}

/** Refusal codes: CREDENTIAL_MISSING, CONNECTION_LIMIT, INFLIGHT_LIMIT (proxy/limits.ts). */
export function injectCredential(deps: InjectDeps, x: Guarded): Verdict<Injected> {
  const entry = deps.vault.get(x.identity.credential);
  if (!entry) return refusal(new AirlockError('CREDENTIAL_MISSING', `grant ${x.identity.grant} names ${x.identity.credential}`));
  const admitted = deps.limits?.admit(x.client.req.socket, x.session.id);
  if (admitted && !admitted.ok) return refusal(admitted.error);
  // A pipelined response still queued behind another never emits 'close': Limits releases on the
  // socket's close too, with one listener per connection.
  if (admitted) x.client.onClose(admitted.release);
  // VaultPort's narrow view of an entry carries what injection reads: the keys.
  const injected = addVaultKey(x.stripped.rawHeaders, entry as VaultEntry);
  const headers = frameHeaders(setHeader(injected.rawHeaders, 'host', x.target.hostHeader), upstreamFraming(x.method, x.canon.framing));
  // A new array in front: what earlier stages journalled was redacted for what they knew.
  const secrets = [...credentialSecrets(x.identity.credential, entry), ...x.secrets];
  return proceed(advance(x, { entry, headers, injected: injected.injected, secrets }));
}
