import { Transform } from 'node:stream';
import { maskStep, type TextMasker } from './mask-text.js';

/** The streaming form of maskStep: holds back `tail` bytes so a split secret is still caught. */
export function maskStream(m: TextMasker, fired: Set<string>): Transform {
  let keep = '';
  const emit = (t: Transform, text: string, final: boolean): void => {
    const s = maskStep(m, text, final);
    keep = s.keep;
    for (const f of s.fired) fired.add(f);
    if (s.out.length > 0) t.push(Buffer.from(s.out, 'latin1'));
  };
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      emit(this, keep + chunk.toString('latin1'), false);
      cb();
    },
    flush(cb) {
      emit(this, keep, true);
      cb();
    },
  });
}
