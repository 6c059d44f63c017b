// stdout for the log, written at most once per LOG_BATCH_MS while lines come fast. Every request
// ends in one log line, and handing each line to sonic-boom on its own cost an fs.write (a
// thread-pool round trip) per request: ~10 µs of CPU on a loaded 2-core machine, the largest
// single cost the bare engine does not pay, and an event-loop turn seldom ends more than one
// request. So a line that comes when nothing was written for LOG_BATCH_MS is written at once (a
// quiet server, an operator watching, a test reading the log: no delay at all), and lines that come
// sooner are gathered and written together when that interval is over (or at LOG_BATCH_BYTES):
// under load, at most one write per LOG_BATCH_MS.
// Order at exit: a batch handed to sonic-boom is written by the thread pool, and nothing at exit
// can wait for that write. So a line that comes while sonic-boom has nothing in hand is written
// with write(2) on the spot (the quiet path: a quiet server's lines, the last lines before a
// crash of a quiet process), and at exit what is gathered is written synchronously: in order
// whenever no batch was still in the thread pool. A process that crashes under load, with a batch
// on its way, can see its last lines land before that batch; none is lost (each line carries its
// time). Only a SIGKILL loses lines: the last LOG_BATCH_MS. Waiting for the thread-pool write at
// exit would take a writer thread of its own (measured: +7 µs per request at concurrency 32 and
// +12 MB RSS), not worth it for the order of a crash's last lines.
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
  /** Bytes handed to sonic-boom and bytes it reports written: equal when it holds nothing. */
  #handed = 0;
  #written = 0;

  constructor(sonic: Sonic) {
    this.#sonic = sonic;
    sonic.on('write', (n: number) => {
      this.#written += n;
    });
  }

  /** Written with write(2) when sonic-boom holds nothing (so the order holds); what is left, to sonic-boom. */
  #writeNow(text: string): void {
    let buf = Buffer.from(text, 'utf8');
    if (this.#handed === this.#written) {
      try {
        buf = buf.subarray(writeSync(1, buf));
      } catch {
        // EAGAIN (a full non-blocking pipe) and the like: sonic-boom retries it in the background.
      }
      if (buf.length === 0) return;
    }
    this.#hand(buf);
  }

  /** To sonic-boom's thread-pool writes (batches under load: no write(2) on the event loop). */
  #hand(buf: Buffer): void {
    this.#handed += buf.length;
    // Its contentMode is 'buffer' (batchedStdout); its types know only strings.
    this.#sonic.write(buf as unknown as string);
  }

  write(line: string): boolean {
    this.#pending.push(line);
    this.#chars += line.length;
    if (this.#timer !== null) {
      if (this.#chars >= LOG_BATCH_BYTES) this.#drain();
      return true;
    }
    const wait = this.#lastWrite + LOG_BATCH_MS - performance.now();
    if (wait <= 0) this.#drain(true);
    else if (this.#chars >= LOG_BATCH_BYTES) this.#drain();
    // Unref'd: a pending line never keeps the process alive; exit writes it (flushSync).
    else this.#timer = setTimeout(this.#drain, wait).unref();
    return true;
  }

  /** `now`: the quiet path, a line after LOG_BATCH_MS without a write, goes out with write(2) if it can. */
  readonly #drain = (now = false): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('');
    this.#pending = [];
    this.#chars = 0;
    this.#lastWrite = performance.now();
    if (now) this.#writeNow(text);
    else this.#hand(Buffer.from(text, 'utf8'));
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
  const batched = new BatchedStdout(pino.destination({ dest: 1, sync: false, contentMode: 'buffer' }));
  // Registered once; sonic-boom's own exit flush (pino's on-exit-leak-free) then finds nothing left.
  process.once('exit', () => batched.flushSync());
  stdout = batched;
  return batched;
}
