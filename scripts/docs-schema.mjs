#!/usr/bin/env node
// npm run docs:schema: writes docs/config.schema.json from the zod config schema (compiled by
// the build this script's npm entry runs first). test/unit/config/config-schema-json.test.ts
// fails when the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigJsonSchema } from '../dist/appliance/config/json-schema.js';

const out = resolve(import.meta.dirname, '../docs/config.schema.json');
writeFileSync(out, renderConfigJsonSchema());
process.stdout.write(`wrote ${out}\n`);
