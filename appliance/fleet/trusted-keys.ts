// The trusted set of appliance signing keys for `sessions verify --keys DIR | --sink` and
// `fleet verify`: a key is found by the kid the .sig names (DIR/<kid>.jwk, or keys/<kid>.jwk in
// the sink) and used only if it is an Ed25519 public JWK whose thumbprint is that kid, so that a
// key file cannot stand in under another key's name. Trust is where the keys come from: a
// directory the auditor filled, or a sink prefix only the appliances' instance role can write.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { isKid, keyKey } from './layout.js';
import type { SinkReader } from './sink-client.js';
import type { SinkConfig } from '../config/schema.js';
import { CodedError } from '../errors.js';

const MAX_JWK_BYTES = 64 * 1024;

export interface TrustedKeys {
  /** Where the trusted keys come from, for messages. */
  readonly where: string;
  /** The key named `kid`, or null when it is not in the trusted set. */
  find(kid: string): Promise<JWK | null>;
}

class KeyError extends CodedError<'PUBLIC_KEY_INVALID'> {}

async function checked(text: string, kid: string, from: string): Promise<JWK> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new KeyError('PUBLIC_KEY_INVALID', `${from} is not JSON`);
  }
  if (typeof jwk !== 'object' || jwk === null || 'd' in jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new KeyError('PUBLIC_KEY_INVALID', `${from} is not an Ed25519 public JWK`);
  }
  const thumb = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  if (thumb !== kid) throw new KeyError('PUBLIC_KEY_INVALID', `${from} holds key ${thumb}, not ${kid}: it is not trusted under that name`);
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

export function keysFromDir(dir: string): TrustedKeys {
  return {
    where: `the key directory ${dir}`,
    async find(kid) {
      if (!isKid(kid)) return null;
      const file = join(dir, `${kid}.jwk`);
      let text: string;
      try {
        text = (await readFile(file, 'utf8')).slice(0, MAX_JWK_BYTES);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ENOENT') return null;
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an fs error's code, whatever it is
        throw new KeyError('PUBLIC_KEY_INVALID', `cannot read ${file}: ${String((err as { code?: unknown }).code ?? 'error')}`);
      }
      return checked(text, kid, file);
    },
  };
}

export function keysFromSink(reader: SinkReader, sink: SinkConfig): TrustedKeys {
  return {
    where: `the sink's keys/ (${reader.where}keys/)`,
    async find(kid) {
      if (!isKid(kid)) return null;
      const bytes = await reader.get(keyKey(sink, kid), MAX_JWK_BYTES);
      return bytes ? checked(bytes.toString('utf8'), kid, `s3://${sink.bucket}/${keyKey(sink, kid)}`) : null;
    },
  };
}
