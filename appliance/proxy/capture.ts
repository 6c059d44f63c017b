import type { CapturedBody } from '../lib/exchange-types.js';

/** Keeps the first `max` bytes of a stream and counts the rest: recording never holds more. */
export class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;
  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    this.seen += chunk.length;
    if (this.kept >= this.max) return;
    const room = this.max - this.kept;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  get size(): number {
    return this.seen;
  }

  get truncated(): boolean {
    return this.seen > this.max;
  }

  /** `declaredSize` (Content-Length) stands in for the total when the rest has not been read yet. */
  body(declaredSize?: number): CapturedBody {
    const size = this.truncated && declaredSize !== undefined && declaredSize > this.seen ? declaredSize : this.seen;
    return { size, bytes: Buffer.concat(this.chunks, this.kept), truncated: this.truncated };
  }
}
