// Who may approve: a verified identity (from the OIDC provider's ID token or userinfo, or an
// operator's token for the CLI) whose email or one of whose groups the config names. Pure.
export interface ApproverRules {
  readonly emails: readonly string[];
  readonly groups: readonly string[];
  readonly groupsClaim: string;
}

export type ApproverCheck = { readonly ok: true; readonly email: string; readonly name?: string } | { readonly ok: false; readonly why: string };

export function approverOf(claims: Readonly<Record<string, unknown>>, rules: ApproverRules): ApproverCheck {
  const email = claims['email'];
  if (typeof email !== 'string' || !email.includes('@')) return { ok: false, why: 'the identity carries no email claim' };
  // A provider that says the address is unverified does not get to name an approver by it.
  if (claims['email_verified'] === false || claims['email_verified'] === 'false') return { ok: false, why: `${email} is not a verified address` };
  const lower = email.toLowerCase();
  const raw = claims[rules.groupsClaim];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
  const byEmail = rules.emails.some((e) => e.toLowerCase() === lower);
  const byGroup = groups.some((g) => rules.groups.includes(g));
  if (!byEmail && !byGroup) return { ok: false, why: `${email} is not in console.approvers (emails or ${rules.groupsClaim})` };
  const name = typeof claims['name'] === 'string' ? claims['name'] : undefined;
  return { ok: true, email: lower, ...(name ? { name } : {}) };
}
