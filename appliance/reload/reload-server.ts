// One reload of a running server, whatever asked for it (SIGHUP, the control socket): read and
// check the config file again, apply it, log what happened. A config that does not parse or
// fails the startup checks is refused with its errors logged; the old one keeps running.
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import type { Logger } from '../log.js';
import { startupErrors } from '../config/startup-checks.js';
import type { LiveConfig, ReloadResult } from './live-config.js';

export function reloadServer(
  live: LiveConfig,
  readConfig: (() => Config) | undefined,
  log: Logger,
  warnings: (c: Config) => string[] = () => [],
): ReloadResult {
  const result = attempt(live, readConfig);
  if (result.ok) {
    for (const w of warnings(live.parts.config)) log.warn(w);
    // The new resolver has no keys yet: fetch them now rather than on the first job's request.
    void live.parts.jwt.warmKeys();
  }
  if (result.ok)
    log.info(
      { changed: result.changed },
      result.changed.length > 0 ? `config reloaded: ${result.changed.join(', ')} changed` : 'config reloaded: nothing changed',
    );
  else log.error({ errors: result.errors }, `config reload refused; the previous config keeps running: ${result.errors.join('; ')}`);
  return result;
}

function attempt(live: LiveConfig, readConfig: (() => Config) | undefined): ReloadResult {
  if (!readConfig) return { ok: false, changed: [], errors: ['this server was started without a config to re-read'] };
  let next: Config;
  try {
    next = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, changed: [], errors: err.problems.map((p) => `${p.path || '(file)'}: ${p.message}`) };
    return { ok: false, changed: [], errors: [(err as Error).message] };
  }
  const problems = startupErrors(next);
  if (problems.length > 0) return { ok: false, changed: [], errors: problems };
  return live.apply(next);
}
