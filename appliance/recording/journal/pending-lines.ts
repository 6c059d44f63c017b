// The short journal lines of a session's failed records (unrecorded-exchange.ts), kept in memory
// until the journal takes them. They are written one batch at a time, so none is written twice,
// and a caller that must not go on before they are on disk (a new begin) waits for that batch.
export interface LineSink {
  append(lines: readonly string[]): Promise<void>;
}

export class PendingLines {
  private readonly lines = new Map<string, string>();
  /** The batch under way; resolves to its error, or null. */
  private writing: Promise<unknown> | null = null;

  get size(): number {
    return this.lines.size;
  }

  add(id: string, line: string): void {
    this.lines.set(id, line);
  }

  /**
   * Resolves with how many lines this call wrote once none is pending; throws the write's error
   * (its own, or that of a batch it waited for) while they cannot be written.
   */
  async writeTo(sink: LineSink): Promise<number> {
    let written = 0;
    for (;;) {
      if (this.writing) {
        const err = await this.writing;
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the failed append's own error, passed on
        if (err !== null) throw err;
        continue;
      }
      if (this.lines.size === 0) return written;
      const claimed = [...this.lines];
      const p = sink.append(claimed.map(([, line]) => line)).then(
        () => {
          for (const [id] of claimed) this.lines.delete(id);
          return null;
        },
        (err: unknown): unknown => err ?? new Error('write failed'),
      );
      this.writing = p;
      const err = await p;
      if (this.writing === p) this.writing = null;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the failed append's own error, passed on
      if (err !== null) throw err;
      written += claimed.length;
    }
  }
}
