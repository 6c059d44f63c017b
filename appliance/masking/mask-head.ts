// The response head as the client and the recording see it: the status reason phrase and every
// header value with each vaulted key masked, and every header whose NAME carries a key dropped.
// A name cannot hold "[masked:credential]" (not a token) and a renamed header would still be one
// the upstream invented; dropping it is recorded as `header-name-dropped` in the masked list.
import { maskStep, type TextMasker } from './mask-text.js';

export const HEADER_NAME_DROPPED = 'header-name-dropped';

export interface MaskedHead {
  readonly statusText: string;
  readonly rawHeaders: string[];
}

export function maskHead(statusText: string, raw: readonly string[], credential: TextMasker, fired: Set<string>): MaskedHead {
  const mask = (text: string): string => {
    const s = maskStep(credential, text, true);
    for (const f of s.fired) fired.add(f);
    return s.out;
  };
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (mask(name) !== name) {
      fired.add(HEADER_NAME_DROPPED);
      continue;
    }
    out.push(name, mask(raw[i + 1]!));
  }
  return { statusText: mask(statusText), rawHeaders: out };
}
