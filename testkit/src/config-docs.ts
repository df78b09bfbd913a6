import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeConfig } from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';

/**
 * Asserts that the docs' configuration table (docs/configuration.md) has a row for each setting's env var
 * whose default cell shows the schema's default (a cell may list several services' defaults, each in backticks).
 */
export function assertDocsDocumentConfig<T>(schema: Schema<T>, configDocsPath: string): void {
  const page = readFileSync(path.resolve(configDocsPath), 'utf8');
  for (const row of describeConfig(schema)) {
    const line = page.split('\n').find((l) => new RegExp(`^\\|\\s*\`${row.env}\`\\s*\\|`).test(l));
    assert.ok(line, `${configDocsPath}: the configuration table has no row for ${row.env} (${row.setting})`);
    const defaultCell = line.split('|')[2]?.trim() ?? '';
    if (row.default === '') {
      assert.ok(
        defaultCell === '' || defaultCell.includes('(empty)'),
        `${configDocsPath}: ${row.env} has no default`,
      );
    } else {
      assert.ok(
        defaultCell.includes(`\`${row.default}\``),
        `${configDocsPath}: ${row.env} default should show \`${row.default}\``,
      );
    }
  }
}
