import { z } from 'zod';
import { configSchema } from './schema.js';

// The JSON Schema of airlock.yaml, generated from the zod schema so that editors and the docs'
// examples are checked against the same shape the loader enforces. `io: 'input'` because a
// config file is the schema's input: durations are "15m" or milliseconds, listen is "HOST:PORT".

const DESCRIPTION =
  "Airlock's configuration file (airlock.yaml), generated from appliance/config/schema.ts by `npm run docs:schema`. " +
  'It checks every key and type; what JSON Schema cannot say is checked by the loader ' +
  '(`airlock check-config`): duration and HOST:PORT syntax, claim-rule regexes, policy match patterns, ' +
  'and references between grants, issuers and policies.';

function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input' });
  const { $schema, ...rest } = generated;
  return { $schema, title: 'Airlock configuration', description: DESCRIPTION, ...rest };
}

/** The committed file's exact text (docs/config.schema.json): two-space JSON and a final newline. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
