import type { Dispatcher } from 'undici';
import { directRequest, DirectRequestError } from '../lib/direct-request.js';
import { isErrorCode, type ErrorCode } from '../errors.js';

export interface ControlReply {
  status: number;
  body: Record<string, unknown>;
  /** On a refusal: the X-Airlock-Error code and the message from Airlock's error shape. */
  code?: ErrorCode;
  message?: string;
}

/** A refusal's code and words, from `X-Airlock-Error` and `{"errors":["airlock: ..."]}`. */
function refusalOf(status: number, header: string | string[] | undefined, body: Record<string, unknown>): { code?: ErrorCode; message?: string } {
  if (status < 400) return {};
  const errors = body['errors'];
  const first = Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0].replace(/^airlock: /, '') : undefined;
  return {
    ...(isErrorCode(header) ? { code: header } : {}),
    ...(first !== undefined ? { message: first } : {}),
  };
}

/** Calls the running server's control socket; null when no server is listening there. */
export async function callControl(
  socketPath: string,
  method: Dispatcher.HttpMethod,
  path: string,
  timeoutMs = 15_000,
  body?: unknown,
): Promise<ControlReply | null> {
  let r;
  try {
    r = await directRequest(`http://localhost${path}`, {
      socketPath,
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs,
      maxBytes: 1_048_576,
    });
  } catch (err) {
    if (!(err instanceof DirectRequestError)) throw err;
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return null;
    if (err.kind === 'timeout') throw new Error('the control socket did not answer in time', { cause: err });
    if (err.kind === 'too-large') throw new Error('control reply too large', { cause: err });
    throw err; // keeps .code (EACCES, EPERM) for the caller's advice
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  return { status: r.status, body: parsed, ...refusalOf(r.status, r.headers['x-airlock-error'], parsed) };
}
