// Opens the Redis bus a config names: the password from its 0600 file, TLS as configured.
import { readFileSync } from 'node:fs';
import type { BusConfig } from '../config/policy-schema.js';
import { RedisBus } from './redis-bus.js';

export function openBus(bus: Readonly<BusConfig>): RedisBus {
  const password = bus.passwordFile ? readFileSync(bus.passwordFile, 'utf8').trim() : undefined;
  const tls = bus.tls === false ? undefined : bus.tls === true ? {} : { ca: readFileSync(bus.tls.caFile, 'utf8') };
  const useTls = tls ?? (bus.url.startsWith('rediss:') ? {} : undefined);
  return new RedisBus({ url: bus.url, keyPrefix: bus.keyPrefix, ...(password !== undefined ? { password } : {}), ...(useTls ? { tls: useTls } : {}) });
}
