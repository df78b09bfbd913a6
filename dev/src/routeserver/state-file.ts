/** Loads the stand-in's initial state from a JSON or YAML file. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { type InitialState, RouteserverModel } from './model';
import { describeSchemaErrors, initialStateSchema, strictAjvOptions } from './validation';

const validate = new Ajv({ ...strictAjvOptions, allErrors: true }).compile<InitialState>(initialStateSchema);

/**
 * Reads, parses (`.yaml`/`.yml` as YAML, anything else as JSON) and validates an initial-state file,
 * including that no two sandboxes or route groups share a routing key.
 * @throws Error whose message names the file and the problem.
 */
export function loadStateFile(path: string): InitialState {
  const fail = (problem: string): never => {
    throw new Error(`Invalid routeserver state file ${path}: ${problem}`);
  };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  let data: unknown;
  try {
    const ext = extname(path).toLowerCase();
    data = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    fail(`cannot parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!validate(data)) return fail(describeSchemaErrors(validate.errors ?? [], 'state'));
  try {
    new RouteserverModel().load(data); // same routing-key uniqueness as the admin API
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  return data;
}
