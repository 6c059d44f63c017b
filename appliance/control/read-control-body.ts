// A control request's body, whole, under a hard cap; refusals are AirlockErrors the server answers.
import type http from 'node:http';
import { AirlockError } from '../errors.js';

/** Every control body is a small JSON object; 16 KiB is far above the largest (a 500-char note). */
export const MAX_CONTROL_BODY = 16 * 1024;

export function readControlBody(req: http.IncomingMessage, max = MAX_CONTROL_BODY): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    return Promise.reject(new AirlockError('BODY_TOO_LARGE', `control requests carry at most ${max} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= max) {
        chunks.push(c);
        return;
      }
      req.off('data', onData);
      reject(new AirlockError('BODY_TOO_LARGE', `control requests carry at most ${max} bytes`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('aborted', () => reject(new AirlockError('BAD_REQUEST', 'the client went away mid-body')));
    req.once('error', () => reject(new AirlockError('BAD_REQUEST', 'the request body could not be read')));
  });
}

/** The body as a JSON object ({} when empty); anything else is 400 BAD_REQUEST. */
export function parseControlJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AirlockError('BAD_REQUEST', 'the body is not JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AirlockError('BAD_REQUEST', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
