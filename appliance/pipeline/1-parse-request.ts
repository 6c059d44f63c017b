// Stage 1, canonical request: the client's request parsed once, strictly (canonical-request.ts).
// Never refuses by itself: a parse error waits for the identity stage, so that even an
// unparseable request is attributed and recorded (exchange.ts Parsed).
import { AirlockError, isAirlockError } from '../errors.js';
import { canonicalRequest, type RequestHead } from './canonical-request.js';
import { advance, type Arrived, type Parsed } from './exchange.js';

export function parseRequest(x: Arrived, head: RequestHead): Parsed {
  try {
    return advance(x, { canon: canonicalRequest(head, x.target.authority), unparsed: null });
  } catch (err) {
    return advance(x, { canon: null, unparsed: isAirlockError(err) ? err : new AirlockError('BAD_REQUEST') });
  }
}
