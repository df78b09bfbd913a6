import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, type LoadConfigOptions } from '@sandbox-routing/service-kit';
import type { Schema } from 'convict';
import { assertDocsDocumentConfig } from './config-docs';

export interface ServiceConfigCase<T> {
  /** The service name its telemetry reports by default. */
  serviceName: string;
  schema: Schema<T>;
  load(options: LoadConfigOptions): T;
  /** The docs page whose configuration table documents the schema (docs/configuration.md). */
  configDocsPath: string;
  /** More checks of the defaults (loaded with no environment: the local stack's). */
  checkDefaults?(config: T): void;
}

/**
 * The tests every service's configuration passes, inside the caller's `describe`: it loads with no
 * environment (local-stack defaults), a bad setting stops it with a message naming the setting and
 * its env var, and the docs' configuration table documents every setting.
 */
export function serviceConfigTests<T extends { telemetry: { serviceName: string } }>(
  service: ServiceConfigCase<T>,
): void {
  it('validates with no environment (local-stack defaults)', () => {
    const config = service.load({ env: {} });
    assert.equal(config.telemetry.serviceName, service.serviceName);
    service.checkDefaults?.(config);
  });

  it('stops with a message naming the setting and its env var', () => {
    assert.throws(
      () => service.load({ env: { LOG_LEVEL: 'chatty' } }),
      (error: unknown) =>
        error instanceof ConfigError && /telemetry\.logLevel \(env LOG_LEVEL\)/.test(error.message),
    );
  });

  it('is documented in the configuration table of the docs', () => {
    assertDocsDocumentConfig(service.schema, service.configDocsPath);
  });
}
