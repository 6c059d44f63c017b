// Fleet vault entries whose keys live elsewhere: a file another agent renders (Vault Agent, the
// Secrets Store CSI driver, systemd credentials), re-read when it changes (inotify on its
// directory, which survives a rename-replace, with a stat poll as the fallback); or a credential
// process (as AWS credential_process / kubectl exec plugins) run without a shell under a timeout,
// refreshed before its value expires. A failed refresh keeps the last good value, marked stale;
// only a value never obtained or past its expiry makes the entry missing (CREDENTIAL_MISSING).
// Nothing here logs or throws a key: stderr is cut and key shapes redacted before it is logged.
import { execFile } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import ms from 'ms';
import type { Logger } from '../log.js';
import { fingerprint } from './fingerprint.js';
import { redactKeyShapes } from '../secrets/key-shape.js';
import { parseKeyOutput, type SourcedKeys } from './key-output.js';
import type { KeySource } from './types.js';

const EXEC_TIMEOUT_MS = 15_000;
const RETRY_MS = 5_000;
const MAX_STDERR = 2_000;

export interface SourceStatus {
  readonly name: string;
  readonly type: KeySource['type'];
  readonly state: 'fresh' | 'stale' | 'missing';
  readonly apiKeyFingerprint: string | null;
  readonly appKeyFingerprint: string | null;
  readonly obtainedAt: string | null;
  readonly expiresAt: string | null;
  readonly error: string | null;
}

interface Held {
  keys: SourcedKeys | null;
  obtainedAt: number;
  stale: boolean;
  error: string | null;
}

export interface KeySourcesOptions {
  readonly log: Logger;
  readonly now?: () => number;
  /** The file source's stat poll; default 1000 ms. */
  readonly pollMs?: number;
  /** Called after every change of a value or a state (the vault status file). */
  readonly onChange?: () => void;
}

/** One running source. */
class Running {
  readonly held: Held = { keys: null, obtainedAt: 0, stale: false, error: null };
  #timer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #sig = '';
  #stopped = false;
  #busy = false;
  /** Values this source held before the current one: still masked in responses. */
  readonly old: string[] = [];

  constructor(
    readonly name: string,
    readonly source: KeySource,
    private readonly o: KeySourcesOptions & { now: () => number },
  ) {}

  start(): Promise<void> {
    if (this.source.type === 'file') {
      try {
        const file = basename(this.source.path);
        this.#watcher = watch(dirname(this.source.path), { persistent: false }, (_ev, f) => {
          if (f === null || f === file || String(f).startsWith(`..`)) void this.#refresh();
        });
        this.#watcher.on('error', () => this.#watcher?.close());
      } catch {
        // No inotify (or no directory yet): the poll alone notices changes.
      }
    }
    return this.#refresh();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher?.close();
  }

  current(): SourcedKeys | null {
    const k = this.held.keys;
    if (!k) return null;
    if (k.expiresAt !== undefined && this.o.now() >= k.expiresAt) return null;
    return k;
  }

  async #refresh(): Promise<void> {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    let next: number;
    try {
      next = this.source.type === 'file' ? await this.#readFile() : await this.#exec();
    } catch (err) {
      next = this.source.type === 'file' ? (this.o.pollMs ?? 1000) : Math.min(RETRY_MS, ttlMs(this.source));
      const msg = (err as Error).message;
      if (this.held.error !== msg || !this.held.stale)
        this.o.log.warn(
          { credential: this.name, source: this.source.type, error: msg, kept: this.held.keys !== null },
          this.held.keys ? 'key source failed: keeping the last good value (stale)' : 'key source failed: no value yet (CREDENTIAL_MISSING)',
        );
      this.held.stale = this.held.keys !== null;
      this.held.error = msg;
      this.o.onChange?.();
    } finally {
      this.#busy = false;
    }
    if (!this.#stopped) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#refresh(), next);
      this.#timer.unref();
    }
  }

  #accept(keys: SourcedKeys): void {
    const prev = this.held.keys;
    const changed = !prev || prev.apiKey !== keys.apiKey || prev.appKey !== keys.appKey;
    if (prev && changed) {
      this.old.unshift(prev.apiKey, ...(prev.appKey ? [prev.appKey] : []));
      this.old.splice(8);
    }
    const wasStale = this.held.stale;
    Object.assign(this.held, { keys, obtainedAt: this.o.now(), stale: false, error: null });
    if (changed || wasStale) {
      this.o.log.info(
        {
          credential: this.name,
          source: this.source.type,
          apiKeyFingerprint: fingerprint(keys.apiKey),
          expiresAt: keys.expiresAt ? new Date(keys.expiresAt).toISOString() : null,
        },
        changed ? 'key source: new value' : 'key source recovered',
      );
    }
    this.o.onChange?.();
  }

  async #readFile(): Promise<number> {
    const path = (this.source as { path: string }).path;
    const poll = this.o.pollMs ?? 1000;
    const st = await stat(path);
    const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (sig === this.#sig && this.held.keys) return poll;
    const text = await readFile(path, 'utf8');
    // A file caught half-written by a writer that does not rename: the next event or poll re-reads it.
    this.#accept(parseKeyOutput(text, `the key file ${path}`));
    this.#sig = sig;
    return poll;
  }

  async #exec(): Promise<number> {
    const src = this.source as { command: readonly string[]; ttl: string };
    const out = await runCredentialProcess(src.command);
    const keys = parseKeyOutput(out, `the credential process ${src.command[0]}`);
    this.#accept(keys);
    const now = this.o.now();
    const ttl = ttlMs(this.source);
    // Refreshed before it expires: at the ttl, or three quarters of the way to its own expiry.
    const untilExpiry = keys.expiresAt !== undefined ? Math.max(1_000, (keys.expiresAt - now) * 0.75) : ttl;
    return Math.max(1_000, Math.min(ttl, untilExpiry));
  }
}

function ttlMs(s: KeySource): number {
  return s.type === 'exec' ? (ms(s.ttl as ms.StringValue) ?? 600_000) : 600_000;
}

/** Runs argv with no shell, a timeout and capped output; rejects with a message that holds no key. */
export function runCredentialProcess(command: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command[0]!, command.slice(1), { timeout: EXEC_TIMEOUT_MS, maxBuffer: 64 * 1024, shell: false, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      const why = e.killed
        ? `timed out after ${EXEC_TIMEOUT_MS} ms`
        : typeof e.code === 'number'
          ? `exited with ${String(e.code)}`
          : `could not run (${String(e.code ?? 'error')})`;
      const tail = redactKeyShapes(
        String(stderr)
          .slice(-MAX_STDERR)
          .replace(/[^\x20-\x7e\n]/g, '?'),
        '[key-shaped]',
      ).trim();
      reject(new Error(`${command[0]} ${why}${tail ? `; stderr: ${tail}` : ''}`));
    });
  });
}

/** Every sourced entry of the vault, by name. */
export class KeySources {
  readonly #o: KeySourcesOptions & { now: () => number };
  readonly #running = new Map<string, Running>();

  constructor(o: KeySourcesOptions) {
    this.#o = { ...o, now: o.now ?? Date.now };
  }

  /** Starts sources for new (or changed) entries and stops those gone; resolves after each new one's first try. */
  async sync(entries: readonly { name: string; source?: KeySource | undefined }[]): Promise<void> {
    const want = new Map(entries.filter((e) => e.source).map((e) => [e.name, e.source!]));
    for (const [name, r] of this.#running) {
      if (!want.has(name)) {
        r.stop();
        this.#running.delete(name);
      }
    }
    const starts: Promise<void>[] = [];
    for (const [name, s] of want) {
      const old = this.#running.get(name);
      if (old && JSON.stringify(s) === JSON.stringify(old.source)) continue;
      // A changed source takes over once it has been tried: the old one serves until then, so
      // requests meanwhile do not see a missing entry.
      const r = new Running(name, s, this.#o);
      starts.push(
        r.start().then(() => {
          if (this.#running.get(name) !== old) return r.stop();
          this.#running.set(name, r);
          old?.stop();
          this.#o.onChange?.();
        }),
      );
    }
    await Promise.all(starts);
  }

  current(name: string): SourcedKeys | null {
    return this.#running.get(name)?.current() ?? null;
  }

  /** Current and earlier values of every source: for masking. */
  values(): string[] {
    const out: string[] = [];
    for (const r of this.#running.values()) {
      const k = r.held.keys;
      if (k) out.push(k.apiKey, ...(k.appKey ? [k.appKey] : []));
      out.push(...r.old);
    }
    return out;
  }

  status(): SourceStatus[] {
    return [...this.#running.values()].map((r) => {
      const k = r.current();
      return {
        name: r.name,
        type: r.source.type,
        state: k === null ? 'missing' : r.held.stale ? 'stale' : 'fresh',
        apiKeyFingerprint: k ? fingerprint(k.apiKey) : null,
        appKeyFingerprint: k?.appKey ? fingerprint(k.appKey) : null,
        obtainedAt: r.held.keys ? new Date(r.held.obtainedAt).toISOString() : null,
        expiresAt: k?.expiresAt !== undefined ? new Date(k.expiresAt).toISOString() : null,
        error: r.held.error,
      };
    });
  }

  stop(): void {
    for (const r of this.#running.values()) r.stop();
    this.#running.clear();
  }
}
