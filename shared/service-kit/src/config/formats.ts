import { isSandboxName } from '@sandbox-routing/core';
import convict from 'convict';

/**
 * Custom convict formats used by the schemas. Registered once, on import of this module.
 * convict 6 ships no `url`/`ipaddress` formats without add-ons; these are small and exact.
 */

const HOST_PORT = /^(?<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?<port>\d{1,5})$/;

/** True when `value` is `host:port` with a DNS name or IPv4 host and a port in 1..65535. */
export function isHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value);
  const port = Number(match?.groups?.port);
  return match !== null && port >= 1 && port <= 65535;
}

/** DNS-1123 label: what Kubernetes accepts for a namespace. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** DNS-1123 subdomain: what Kubernetes accepts for a Deployment name. */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A format for strings that pass `test`; any other value fails with `message`. */
function stringFormat(test: (value: string) => boolean, message: string): convict.Format {
  return {
    validate(value: unknown) {
      assert(typeof value === 'string' && test(value), message);
    },
  };
}

/** Reads a whole number from the environment's text; anything else stays as given, so the error can echo it. */
function coerceInteger(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[-+]?\d+\s*$/.test(value)) return value;
  return Number(value);
}

/** A whole number above 0, in `unit` (or a plain count when unit is undefined). */
function positiveInteger(unit: string | undefined): convict.Format {
  const message = unit ? `must be a whole number of ${unit} above 0` : 'must be a whole number above 0';
  return {
    validate(value: unknown) {
      assert(typeof value === 'number' && Number.isSafeInteger(value) && value > 0, message);
    },
    coerce: coerceInteger,
  };
}

/**
 * The custom formats, by name. Each message says what is expected (with the unit, where there is one);
 * `loadConfig` appends the rejected value unless the setting is sensitive.
 */
export const CUSTOM_FORMATS: Readonly<Record<string, convict.Format>> = {
  'host-port-list': {
    validate(value: unknown) {
      assert(
        Array.isArray(value) && value.length > 0,
        'must be a non-empty comma-separated list of host:port',
      );
      for (const entry of value) {
        assert(typeof entry === 'string' && isHostPort(entry), 'must be a comma-separated list of host:port');
      }
    },
    coerce: (value: unknown) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part.length > 0)
        : value,
  },
  'host-port': stringFormat(isHostPort, 'must be host:port (a host name or IPv4 address, a port 1-65535)'),
  'optional-host-port': stringFormat(
    (value) => value === '' || isHostPort(value),
    'must be empty or host:port (a host name or IPv4 address, a port 1-65535)',
  ),
  'http-url': {
    validate(value: unknown) {
      assert(typeof value === 'string', 'must be an http(s) URL');
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new Error('must be an http(s) URL');
      }
      assert(url.protocol === 'http:' || url.protocol === 'https:', 'must be an http(s) URL');
    },
  },
  'optional-http-url': {
    validate(value: unknown) {
      if (value === '' || value === null) return;
      assert(
        typeof value === 'string' && /^https?:\/\/[^\s]+$/.test(value),
        'must be empty or an http(s) URL',
      );
    },
  },
  'dns-label': stringFormat(
    (value) => DNS_LABEL.test(value),
    'must be a DNS-1123 label (lowercase letters, digits, "-", at most 63 characters)',
  ),
  'dns-subdomain': stringFormat(
    (value) => DNS_SUBDOMAIN.test(value),
    'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")',
  ),
  'sandbox-name': stringFormat(
    (value) => value === '' || isSandboxName(value),
    'must be empty (baseline) or a Signadot sandbox name (a letter, then letters, digits, "-"; at most 30)',
  ),
  'kafka-name': stringFormat(
    (value) => /^[A-Za-z0-9._-]{1,249}$/.test(value),
    'must be 1-249 characters of letters, digits, ".", "_" and "-"',
  ),
  // convict's Boolean turns any string but "false" into true ("flase" → true); this one is strict.
  'strict-boolean': {
    validate(value: unknown) {
      assert(typeof value === 'boolean', 'must be true or false (or 1 or 0)');
    },
    coerce: (value: unknown) => {
      if (typeof value !== 'string') return value;
      const normalised = value.trim().toLowerCase();
      if (normalised === 'true' || normalised === '1') return true;
      if (normalised === 'false' || normalised === '0') return false;
      return value;
    },
  },
  'positive-ms': positiveInteger('milliseconds'),
  'positive-bytes': positiveInteger('bytes'),
  'positive-int': positiveInteger(undefined),
};

let registered = false;

/** Registers the custom formats with convict (idempotent). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormats(CUSTOM_FORMATS);
}
