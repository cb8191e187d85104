// Regenerates the settings table in docs/configuration.md from the config schema (libs/config).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { configReference } = require('../libs/config/dist/index.js');
const file = new URL('../docs/configuration.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const start = doc.indexOf('<!-- settings:start -->');
const end = doc.indexOf('<!-- settings:end -->');
if (start < 0 || end < 0) throw new Error('docs/configuration.md lacks the settings markers');
writeFileSync(
  file,
  doc.slice(0, start) + '<!-- settings:start -->\n\n' + configReference() + '\n' + doc.slice(end),
);
