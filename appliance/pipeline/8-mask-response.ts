// Stage 8, mask: the response is masked (vaulted keys, the config's masking rules) before it is
// recorded and before the client sees a byte of it (masking/mask-response.ts).
import { noteKeyRefused } from '../credentials/key-refusals.js';
import { maskResponse as mask, NO_MASK_RULES } from '../masking/mask-response.js';
import { maskSecrets, NO_SECRETS } from './exchange-secrets.js';
import { advance, proceed, type Forwarded, type Masked, type Verdict } from './exchange.js';
import { asAirlockError, refusal } from './refusal.js';

/** Refusal code (decision "error", the request was forwarded): MASKING_UNAVAILABLE. */
export function maskResponse(maxBodyBytes: number, x: Forwarded): Verdict<Masked> {
  const { outcome, guard } = x;
  // Datadog refusing the vaulted key is worth an operator's attention (a rotation gone wrong).
  if (outcome.status === 403) noteKeyRefused(x.log, x.identity.credential, (x.entry.previous?.length ?? 0) > 0);
  try {
    const shown = mask(
      { method: x.method, status: outcome.status, statusText: outcome.statusText, rawHeaders: outcome.rawHeaders, held: outcome.held, rest: outcome.rest },
      maskSecrets(x.entry, guard?.secretValues() ?? NO_SECRETS),
      guard?.masking ?? NO_MASK_RULES,
      maxBodyBytes,
    );
    return proceed(advance(x, { shown }));
  } catch (err) {
    outcome.rest?.destroy();
    const e = asAirlockError(err, 'MASKING_UNAVAILABLE');
    return refusal(e, { decision: 'error', error: e.message, sent: { forwarded: true, requestBody: null, timings: outcome.timings } });
  }
}
