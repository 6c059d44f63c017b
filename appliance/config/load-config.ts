import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { CodedError } from '../errors.js';

export interface ConfigProblem {
  /** Dotted key path such as `identity.grants[0].issuer`; empty for the whole file. */
  path: string;
  message: string;
}

export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  readonly problems: readonly ConfigProblem[];
  readonly file: string | null;
  constructor(file: string | null, problems: ConfigProblem[]) {
    super('CONFIG_INVALID', `${file ?? 'built-in config'} is invalid:\n` + problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

const DEFAULT_CONFIG_FILE = 'airlock.yaml';

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function problemsOf(error: z.ZodError): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      }
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Validates an already-parsed object; throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, file: string | null = null): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(file, problemsOf(result.error));
  return deepFreeze(result.data);
}

export interface LoadOptions {
  /** --config; when absent, ./airlock.yaml if it exists, else the built-in defaults. */
  configFile?: string | undefined;
  /** --state-dir; wins over the file's stateDir. */
  stateDir?: string | undefined;
  /** --listen; wins over the file's listen. */
  listen?: string | undefined;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  file: string | null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  let file: string | null = null;
  if (opts.configFile) file = resolve(cwd, opts.configFile);
  else if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) file = resolve(cwd, DEFAULT_CONFIG_FILE);

  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(file, [{ path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
    }
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        file,
        doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0] ?? ''}` })),
      );
    }
    const js: unknown = doc.toJS();
    if (js !== null && js !== undefined && (typeof js !== 'object' || Array.isArray(js))) {
      throw new ConfigError(file, [{ path: '', message: 'the file must hold a YAML mapping' }]);
    }
    raw = (js as Record<string, unknown> | null) ?? {};
  }
  const merged: Record<string, unknown> = { ...raw };
  if (opts.stateDir) merged['stateDir'] = opts.stateDir;
  if (opts.listen) merged['listen'] = opts.listen;
  let config: Config;
  try {
    config = parseConfig(merged, file);
  } catch (err) {
    // A bad --listen is the command line's fault, not the file's (or the built-in config's).
    if (err instanceof ConfigError && opts.listen && err.problems.some((p) => p.path === 'listen')) {
      throw new ConfigError(
        `--listen ${opts.listen}`,
        err.problems.filter((p) => p.path === 'listen').map((p) => ({ path: '--listen', message: p.message })),
      );
    }
    throw err;
  }
  // Relative paths in the file are relative to the process's working directory, like the CLI flags.
  const stateDir = resolve(cwd, config.stateDir);
  const caFile = config.upstream.caFile ? resolve(file ? resolve(file, '..') : cwd, config.upstream.caFile) : null;
  const final = deepFreeze({ ...config, stateDir, upstream: { ...config.upstream, caFile } }) as Config;
  return { config: final, file };
}
