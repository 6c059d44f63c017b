// Datadog endpoints that list, create or reveal API and application keys. Denied before any
// policy rule, unless the policy sets allowKeyManagement: the vaulted key must not be able to
// read itself (or its siblings) back out through the API it unlocks.
import { compileMatch, type CompiledMatch } from '../lib/match-pattern.js';

const PREFIXES = [
  '/api/v1/api_key',
  '/api/v1/application_key',
  '/api/v2/api_keys',
  '/api/v2/application_keys',
  '/api/v2/current_user/application_keys',
  '/api/v2/service_accounts/*/application_keys',
];

export const KEY_MANAGEMENT: readonly CompiledMatch[] = PREFIXES.flatMap((p) => [compileMatch(`* ${p}*`), compileMatch(`* ${p}*/**`)]);

export const KEY_MANAGEMENT_REASON = 'Datadog key-management endpoints are never reachable through Airlock (policy allowKeyManagement: true opts in)';
