import type { Schema } from 'convict';

/** One row of a configuration table: what users set, and what happens when they do not. */
export interface ConfigDocRow {
  env: string;
  setting: string;
  default: string;
  doc: string;
}

interface Leaf {
  env?: string;
  doc?: string;
  default: unknown;
  sensitive?: boolean;
}

/** Lists every setting of a schema with its environment variable and default, for docs and checks. */
export function describeConfig<T>(schema: Schema<T>, prefix = ''): ConfigDocRow[] {
  return Object.entries(schema as Record<string, unknown>).flatMap(([key, node]) => {
    const setting = prefix ? `${prefix}.${key}` : key;
    if (typeof node === 'object' && node !== null && 'default' in node) {
      const leaf = node as Leaf;
      const value = Array.isArray(leaf.default) ? leaf.default.join(',') : String(leaf.default);
      return [{ env: leaf.env ?? '', setting, default: leaf.sensitive ? '' : value, doc: leaf.doc ?? '' }];
    }
    return describeConfig(node as Schema<unknown>, setting);
  });
}
