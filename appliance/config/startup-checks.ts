// What `serve` (and a reload) refuses to run with, beyond the schema: a grant on an issuer that
// every tenant of a public CI service shares (github.com, gitlab.com, Buildkite) with no claim
// pinning it to one tenant admits every repository on that service. Refused unless the grant
// says so (`allowAnyTenant: true`). And what it warns about: a grant whose credential the vault
// does not hold is refused at every request (503 CREDENTIAL_MISSING). Pure.
import type { Config } from './schema.js';
import { BUILDKITE_ISSUER, GITHUB_ISSUER, GITLAB_COM } from './issuer-presets.js';
import { pinsTenant } from './grant-warnings.js';

const SHARED = new Set([GITHUB_ISSUER, GITLAB_COM, BUILDKITE_ISSUER]);

export function startupErrors(config: Config): string[] {
  const out: string[] = [];
  config.identity.grants.forEach((g, i) => {
    const issuer = config.identity.issuers.find((x) => x.name === g.issuer);
    if (!issuer || g.allowAnyTenant || !SHARED.has(issuer.issuer.replace(/\/+$/, ''))) return;
    if (pinsTenant(issuer.kind, g.claims) !== false) return;
    const what =
      issuer.kind === 'gitlab' ? 'project_id or namespace_id' : issuer.kind === 'buildkite' ? 'organization_id' : 'repository_id or repository_owner_id';
    out.push(
      `identity.grants[${i}].claims: grant ${g.name} pins no tenant, and every tenant of ${issuer.issuer} shares that issuer, so any of them would get credential ${g.credential}: ` +
        `add a ${what} claim, or set allowAnyTenant: true on the grant if every tenant is meant`,
    );
  });
  return out;
}

/** Grants whose credential is not a vault entry: each would answer 503 CREDENTIAL_MISSING. */
export function missingCredentials(config: Config, vaultNames: ReadonlySet<string>): string[] {
  return config.identity.grants
    .map((g, i) => ({ g, i }))
    .filter(({ g }) => !vaultNames.has(g.credential))
    .map(
      ({ g, i }) =>
        `identity.grants[${i}].credential: grant ${g.name} names ${g.credential}, which is not in the vault: its requests get 503 CREDENTIAL_MISSING until \`airlock vault put ${g.credential}\``,
    );
}
