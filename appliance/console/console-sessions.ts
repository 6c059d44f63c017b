// Signed-in approvers, in the console's memory: a random 256-bit id in a __Host- cookie (Secure,
// HttpOnly, SameSite=Lax), and a per-session CSRF token the page sends back in a header.
// A console restart signs everyone out; nothing about a session is ever written down.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = '__Host-airlock-console';
export const LOGIN_COOKIE = '__Host-airlock-login';

export interface ConsoleSession {
  readonly email: string;
  readonly name?: string;
  readonly csrf: string;
  readonly expiresAt: number;
}

const MAX_SESSIONS = 10_000;

export class ConsoleSessions {
  private readonly byId = new Map<string, ConsoleSession>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(email: string, name?: string): { id: string; session: ConsoleSession } {
    if (this.byId.size >= MAX_SESSIONS) this.sweep();
    if (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { email, ...(name ? { name } : {}), csrf: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    this.byId.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (s && s.expiresAt <= this.now()) {
      this.byId.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, s] of this.byId) if (s.expiresAt <= t) this.byId.delete(k);
  }
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function setCookie(name: string, value: string, maxAgeSeconds: number, sameSite: 'Lax' | 'Strict' = 'Lax'): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=${sameSite}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}
