import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeConfig } from '@sandbox-routing/shared';
import type { Schema } from 'convict';

/**
 * Asserts that the README's configuration table has a row for each setting's env var whose default
 * cell shows the schema's default (a cell may list several services' defaults, each in backticks).
 */
export function assertReadmeDocumentsConfig<T>(schema: Schema<T>, readmePath: string): void {
  const readme = readFileSync(path.resolve(readmePath), 'utf8');
  for (const row of describeConfig(schema)) {
    const line = readme.split('\n').find((l) => new RegExp(`^\\|\\s*\`${row.env}\`\\s*\\|`).test(l));
    assert.ok(line, `README configuration table has no row for ${row.env} (${row.setting})`);
    const defaultCell = line.split('|')[2]?.trim() ?? '';
    if (row.default === '') {
      assert.ok(defaultCell === '' || defaultCell.includes('(empty)'), `README: ${row.env} has no default`);
    } else {
      assert.ok(
        defaultCell.includes(`\`${row.default}\``),
        `README: ${row.env} default should show \`${row.default}\``,
      );
    }
  }
}
