// The config's `console:` section: where the approval console listens, how approvers sign in
// (the organization's OIDC provider), who may approve, and the Slack app's signing secret.
import { z } from 'zod';
import ms from 'ms';
import type { Config } from './schema.js';

const seconds = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const out = typeof v === 'number' ? v : ms(v as ms.StringValue);
  if (typeof out !== 'number' || !Number.isFinite(out) || out <= 0) {
    ctx.addIssue({ code: 'custom', message: `not a positive duration: ${String(v)} (write e.g. "8h")` });
    return z.NEVER;
  }
  return out;
});

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export const consoleSchema = z
  .strictObject({
    listen: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8443) }).prefault({}),
    /** The URL browsers use; the OIDC redirect URI is publicUrl + /auth/callback. */
    publicUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    /** HTTPS for the console itself; required unless publicUrl is a loopback http:// URL. */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    oidc: z.strictObject({
      issuer: z.url({ protocol: /^https?$/ }),
      clientId: z.string().min(1),
      /** 0600 file; absent for a public client (PKCE alone). */
      clientSecretFile: z.string().min(1).optional(),
      scopes: z.string().default('openid email profile groups'),
    }),
    approvers: z
      .strictObject({
        emails: z.array(z.email()).default([]),
        groups: z.array(z.string().min(1)).default([]),
        /** The claim that lists the approver's groups. */
        groupsClaim: z.string().min(1).default('groups'),
      })
      .refine((a) => a.emails.length + a.groups.length > 0, { error: 'name at least one approver email or group' }),
    sessionTtl: seconds.default(8 * 3600_000),
    slack: z
      .strictObject({
        /** The Slack app's signing secret (0600 file). */
        signingSecretFile: z.string().min(1),
        /** Slack user id -> the approver's email; the email must pass console.approvers. */
        users: z.record(z.string().regex(/^[UW][A-Z0-9]{2,20}$/), z.email()).default({}),
        /** Callbacks older than this (X-Slack-Request-Timestamp) are refused. */
        replayWindow: seconds.default(5 * 60_000),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const u = new URL(c.publicUrl);
    if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'the console needs https:// (its cookies are Secure); http:// is only for loopback' });
    }
    if (u.protocol === 'https:' && !c.tls) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'an https:// publicUrl needs console.tls (certFile, keyFile)' });
    }
  });

/** As the loaded (deeply read-only) config holds it. */
export type ConsoleConfig = NonNullable<Config['console']>;
