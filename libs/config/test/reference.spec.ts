import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, envVariables } from '../src';

describe('configuration reference', () => {
  it('lists every setting with its variable and default', () => {
    const table = configReference();
    for (const v of envVariables()) expect(table).toContain(`| \`${v.path.join('.')}\` | \`${v.name}\` |`);
    expect(table).toContain('`drop-oldest`, `drop-new`');
  });

  it('is what docs/configuration.md shows (regenerate with `npm run docs:config`)', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/configuration.md'), 'utf8');
    expect(doc).toContain(configReference());
  });
});
