// The streaming form of maskStep (mask-text.ts), over Buffers. A step's text is what was held back
// from the previous step followed by the new chunk; the last `tail` bytes (longest secret form - 1)
// are held back again, so a secret split across any chunk boundary is still found whole.
//
// Why Buffers: a large recorded response streams through here chunk by chunk, and converting each
// chunk to a latin1 string, running the alternation over it and converting back was most of the
// per-chunk cost. When there are no regex rules (TextMasker.needles), a chunk is searched for each
// secret form with Buffer.indexOf; when none occurs in held-back + chunk, maskStep would find
// nothing either, and the bytes it would emit are passed on as they came (no copy, no string).
// When a form occurs, or regex rules are configured, the step is exactly maskStep over latin1 text.
import { maskStep, type TextMasker } from './mask-text.js';

const EMPTY = Buffer.alloc(0);

export class StreamMasker {
  /** Held back from the previous step: at most `tail` bytes, never sent yet. */
  private keep: Buffer = EMPTY;

  constructor(
    private readonly m: TextMasker,
    private readonly fired: Set<string>,
  ) {}

  /** The bytes safe to send after `chunk`, in order; nothing matched means none of them is a copy. */
  push(chunk: Buffer): Buffer[] {
    if (this.m.matchers.length === 0) return [chunk];
    if (this.m.needles !== null && !this.occurs(chunk)) return this.pass(chunk);
    return this.step(chunk, false);
  }

  /** Everything still held back, masked. */
  end(): Buffer[] {
    if (this.keep.length === 0) return [];
    if (this.m.needles !== null && !this.occurs(EMPTY)) {
      const rest = this.keep;
      this.keep = EMPTY;
      return [rest];
    }
    return this.step(EMPTY, true);
  }

  /** Does any secret form occur in keep + chunk? */
  private occurs(chunk: Buffer): boolean {
    const needles = this.m.needles ?? [];
    for (const n of needles) if (chunk.indexOf(n) !== -1) return true;
    if (this.keep.length === 0) return false;
    // A form that starts in `keep` ends within `tail` bytes of the chunk: search only that seam.
    const seam = Buffer.concat([this.keep, chunk.subarray(0, this.m.tail)]);
    for (const n of needles) if (seam.indexOf(n) !== -1) return true;
    return false;
  }

  /**
   * Nothing matches in keep + chunk: everything is sent except a tail that could be the start of
   * a secret form (its bytes are a prefix of one), which is held for the next chunk. Usually no
   * tail qualifies and the chunk goes on whole, uncopied, in one write. The same bytes, overall,
   * as maskStep's fixed `tail` hold-back: a form can only start in what is held.
   */
  private pass(chunk: Buffer): Buffer[] {
    const needles = this.m.needles ?? [];
    const keep = this.keep;
    const total = keep.length + chunk.length;
    // The last `tail` bytes of keep + chunk: a view of the chunk when it is long enough.
    const window = chunk.length >= this.m.tail ? chunk.subarray(chunk.length - this.m.tail) : Buffer.concat([keep, chunk]).subarray(-this.m.tail || total);
    const from = total - window.length + startOfPrefix(window, needles);
    if (from >= keep.length) {
      if (from === total) {
        this.keep = EMPTY;
        return keep.length === 0 ? [chunk] : [keep, chunk];
      }
      const sent = chunk.subarray(0, from - keep.length);
      this.keep = chunk.subarray(from - keep.length);
      if (keep.length === 0) return sent.length === 0 ? [] : [sent];
      return sent.length === 0 ? [keep] : [keep, sent];
    }
    this.keep = Buffer.concat([keep.subarray(from), chunk]);
    return from === 0 ? [] : [keep.subarray(0, from)];
  }

  /** A match (or regex rules): maskStep itself over the latin1 text. */
  private step(chunk: Buffer, final: boolean): Buffer[] {
    const text = this.keep.length === 0 ? chunk.toString('latin1') : this.keep.toString('latin1') + chunk.toString('latin1');
    const s = maskStep(this.m, text, final);
    for (const f of s.fired) this.fired.add(f);
    this.keep = s.keep.length === 0 ? EMPTY : Buffer.from(s.keep, 'latin1');
    return s.out.length > 0 ? [Buffer.from(s.out, 'latin1')] : [];
  }
}

/**
 * The first index of `window` from which the rest of it is a proper prefix of some needle, or
 * window.length. No needle occurs whole in `window` (checked before).
 */
function startOfPrefix(window: Buffer, needles: readonly Buffer[]): number {
  let best = window.length;
  for (const n of needles) {
    const first = n[0]!;
    for (let i = window.indexOf(first); i !== -1 && i < best; i = window.indexOf(first, i + 1)) {
      const k = window.length - i;
      if (k < n.length && window.compare(n, 0, k, i) === 0) {
        best = i;
        break;
      }
    }
  }
  return best;
}
