/**
 * JSON schemas for the stand-in's admin API bodies and its initial-state file, plus an error formatter
 * whose messages name the offending field.
 */

/** Sandbox and route group names: as Signadot allows, at most 30 characters. */
export const nameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 30,
  pattern: '^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$',
};

/** Routing keys: what the routing library accepts on a message (see `isValidRoutingKey` in shared). */
export const routingKeySchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
};

const dns1123Label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/** A forked baseline workload. */
export const workloadSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'namespace', 'name'],
  properties: {
    kind: { type: 'string', enum: ['Deployment', 'ArgoRollout'] },
    namespace: { type: 'string', maxLength: 63, pattern: `^${dns1123Label}$` },
    name: { type: 'string', maxLength: 253, pattern: `^${dns1123Label}(\\.${dns1123Label})*$` },
  },
};

/** The body of a routing key's owner: the key and a non-empty list of distinct `items` under `listName`. */
function keyOwnerBodySchema(listName: string, items: object) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['routingKey', listName],
    properties: {
      routingKey: routingKeySchema,
      [listName]: { type: 'array', minItems: 1, uniqueItems: true, items },
    },
  };
}

/** Body of `PUT /admin/sandboxes/{name}` and a sandbox entry of the state file. */
export const sandboxBodySchema = keyOwnerBodySchema('forks', workloadSchema);

/** Body of `PUT /admin/routegroups/{name}` and a route group entry of the state file. */
export const routeGroupBodySchema = keyOwnerBodySchema('sandboxes', nameSchema);

/** Body of `PUT /admin/behaviour`; every field optional. */
export const behaviourBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    emptyRoutingRules: { type: 'string', enum: ['omit', 'empty-array'] },
    delayMs: { type: 'integer', minimum: 0, maximum: 60000 },
    respondWith: { type: 'string', enum: ['rules', 'malformed-json', 'http-500'] },
    grpc: { type: 'string', enum: ['serve', 'unimplemented'] },
  },
};

/** Path parameters of the admin routes that take a name. */
export const nameParamsSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: nameSchema },
};

/** The initial-state file: sandboxes and route groups keyed by name, both optional. */
export const initialStateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sandboxes: {
      type: 'object',
      propertyNames: nameSchema,
      additionalProperties: sandboxBodySchema,
    },
    routeGroups: {
      type: 'object',
      propertyNames: nameSchema,
      additionalProperties: routeGroupBodySchema,
    },
  },
};

/**
 * Options for ajv (fastify's `ajv.customOptions` and the state-file validator): reject rather than
 * repair bad input, since fastify's defaults would silently drop unknown fields and coerce types.
 */
export const strictAjvOptions = { removeAdditional: false, coerceTypes: false, useDefaults: false } as const;

/** The part of an ajv error the formatter reads (ajv's ErrorObject and fastify's error both fit). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  propertyName?: string;
}

/** One line per error, each starting with the field's path under `root`, e.g. `body/forks/0/kind`. */
export function describeSchemaErrors(errors: readonly SchemaError[], root: string): string {
  return errors
    .filter((e) => e.keyword !== 'propertyNames') // a summary of the key errors reported above it
    .map((e) => {
      const at = `${root}${e.instancePath}`;
      const p = e.params;
      // ajv's own messages for these two do not name the field or the allowed values.
      if (e.keyword === 'additionalProperties')
        return `${at} has unknown property "${String(p.additionalProperty)}"`;
      if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
        return `${at} must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      }
      // ajv marks errors about an object's key (propertyNames) with the offending key.
      if (e.propertyName !== undefined) return `${at} has an invalid name "${e.propertyName}": ${e.message}`;
      return `${at} ${e.message ?? `fails ${e.keyword}`}`;
    })
    .join('; ');
}
