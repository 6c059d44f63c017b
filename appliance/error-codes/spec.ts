// The shape of one entry in Airlock's error table (errors.ts composes the areas).

/** Who meets the error: a client of the proxy, an operator or approver (CLI, control socket, console), or whoever writes the config and state files. */
export type ErrorArea = 'proxy' | 'operator' | 'config';

export interface ErrorSpec {
  /** The HTTP status it is answered with; null when it is never an HTTP answer (a CLI exit, a log line, a HAR entry). */
  readonly status: number | null;
  /** What happened and what to do. For HTTP codes this is the client's answer; otherwise the reference text (the thrown message is specific). */
  readonly message: string;
  /** When the reference says more than the message: the cases it covers, for docs/errors.md only. */
  readonly doc?: string;
}
