#!/usr/bin/env node
// Writes docs/errors.md from the error table (build first: npm run docs:errors does).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderErrorReference } from '../dist/appliance/error-codes/reference.js';

const file = resolve(import.meta.dirname, '../docs/errors.md');
writeFileSync(file, renderErrorReference());
process.stdout.write(`wrote ${file}\n`);
