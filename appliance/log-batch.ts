// stdout for the log, written at most once per LOG_BATCH_MS while lines come fast. Every request
// ends in one log line, and handing each line to sonic-boom on its own cost an fs.write (a
// thread-pool round trip) per request: ~10 µs of CPU on a loaded 2-core machine, the largest
// single cost the bare engine does not pay, and an event-loop turn seldom ends more than one
// request. So a line that comes when nothing was written for LOG_BATCH_MS is written at once (a
// quiet server, an operator watching, a test reading the log: no delay at all), and lines that come
// sooner are gathered and written together when that interval is over (or at LOG_BATCH_BYTES):
// under load, at most one write per LOG_BATCH_MS. On exit what is gathered is written
// synchronously after what sonic-boom still holds, so the last lines before process.exit (or an
// uncaught exception) come out, in order; only a SIGKILL can lose the last LOG_BATCH_MS.
import { writeSync } from 'node:fs';
import { pino } from 'pino';

type Sonic = ReturnType<typeof pino.destination>;

/** Least time between two writes while lines come faster; also the longest a line waits. */
const LOG_BATCH_MS = 2;
/** Gathered lines are written at once when they reach this many characters. */
const LOG_BATCH_BYTES = 16 * 1024;

class BatchedStdout {
  readonly #sonic: Sonic;
  #pending: string[] = [];
  #chars = 0;
  #timer: NodeJS.Timeout | null = null;
  #lastWrite = -Infinity;

  constructor(sonic: Sonic) {
    this.#sonic = sonic;
  }

  write(line: string): boolean {
    this.#pending.push(line);
    this.#chars += line.length;
    if (this.#timer !== null) {
      if (this.#chars >= LOG_BATCH_BYTES) this.#drain();
      return true;
    }
    const wait = this.#lastWrite + LOG_BATCH_MS - performance.now();
    if (wait <= 0 || this.#chars >= LOG_BATCH_BYTES) this.#drain();
    // Unref'd: a pending line never keeps the process alive; exit writes it (flushSync).
    else this.#timer = setTimeout(this.#drain, wait).unref();
    return true;
  }

  readonly #drain = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('');
    this.#pending = [];
    this.#chars = 0;
    this.#lastWrite = performance.now();
    this.#sonic.write(text);
  };

  /** pino's logger.flush(): what is gathered goes to sonic-boom, which writes it out. */
  flush(cb?: (err?: Error) => void): void {
    this.#drain();
    this.#sonic.flush(cb);
  }

  /** At exit, with no event loop left: sonic-boom's queue, then the gathered lines, synchronously. */
  flushSync(): void {
    try {
      this.#sonic.flushSync();
    } catch {
      // Not open yet, or destroyed: the gathered lines below are still written.
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#chars = 0;
    try {
      writeSync(1, text);
    } catch {
      // stdout is gone (a closed pipe): nothing left to tell.
    }
  }
}

let stdout: BatchedStdout | null = null;

/** The one batched stdout of this process (every logger without a destination shares it). */
export function batchedStdout(): BatchedStdout {
  if (stdout) return stdout;
  const batched = new BatchedStdout(pino.destination({ dest: 1, sync: false }));
  // Registered once; sonic-boom's own exit flush (pino's on-exit-leak-free) then finds nothing left.
  process.once('exit', () => batched.flushSync());
  stdout = batched;
  return batched;
}
