// A control request's body, whole, under a hard cap; refusals are AirlockErrors the server answers.
import type http from 'node:http';
import { AirlockError } from '../errors.js';
import { readCapped } from '../lib/read-capped.js';

/** Every control body is a small JSON object; 16 KiB is far above the largest (a 500-char note). */
const MAX_CONTROL_BODY = 16 * 1024;

export async function readControlBody(req: http.IncomingMessage, max = MAX_CONTROL_BODY): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const tooLarge = new AirlockError('BODY_TOO_LARGE', `control requests carry at most ${max} bytes`);
  if (declared !== undefined && Number(declared) > max) throw tooLarge;
  const r = await readCapped(req, max);
  if (r.ok) return r.bytes;
  // Let the rest flow away unread, so that the refusal can still be answered.
  req.resume();
  if (r.why === 'too-large') throw tooLarge;
  throw new AirlockError('BAD_REQUEST', r.why === 'aborted' ? 'the client went away mid-body' : 'the request body could not be read');
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
