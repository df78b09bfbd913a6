/**
 * Who may use the console. It publishes events and starts workflows under any routing key, so:
 * - every request must be addressed to a host it serves (loopback names, its bind address,
 *   `CONSOLE_ALLOWED_HOSTS`): a web page that points its own name at the console (DNS rebinding) is refused;
 * - a state-changing request must come from one of those hosts' pages (Origin, else Referer), or be a
 *   script's request with `Authorization: Bearer` (a browser never adds that header on its own);
 * - when a token is set (required on a non-loopback bind), a request carries it: the session cookie the
 *   login page sets, or the bearer header.
 * /healthz and /readyz answer anyone (kubelet probes address the pod IP).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '@sandbox-routing/service-kit';
import type { ConsoleSettings } from './config';

/** What the server checks requests against. */
export interface ConsoleAccess {
  /** The token requests must carry; null: none (loopback only). */
  token: string | null;
  /** `CONSOLE_ALLOWED_HOSTS`: exact names and `*.suffix` wildcards, lower case. */
  allowedHosts: readonly string[];
}

/** Name of the cookie the login page sets. */
export const SESSION_COOKIE = 'sandbox_routing_console';

/** Loopback: `localhost` (and `*.localhost`), 127.0.0.0/8, ::1. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^::ffff:127\./.test(name);
  return false;
}

/** A wildcard bind (`0.0.0.0`, `::`) names no host of its own. */
function isWildcardBind(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), lower case; null when it is not one. */
export function hostnameOfHostHeader(host: string | undefined): string | null {
  if (!host) return null;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/@\s]+)(?::\d{1,5})?$/.exec(host.trim());
  return match?.[1] ? match[1].toLowerCase().replace(/\.$/, '') : null;
}

/** Whether the console serves `hostname` (from a Host header, an Origin or a Referer). */
export function isServedHost(hostname: string, bindHost: string, access: ConsoleAccess): boolean {
  const name = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (isLoopbackName(name)) return true;
  const bind = bindHost.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (!isWildcardBind(bind) && name === bind) return true;
  return access.allowedHosts.some((pattern) =>
    pattern.startsWith('*.')
      ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1
      : name === pattern,
  );
}

/** The host name of an Origin or Referer URL (http or https); null for `null` and anything else. */
export function hostnameOfPageUrl(url: string | undefined): string | null {
  if (!url || url === 'null') return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** Equal strings, compared in time that does not depend on where they differ (digests of equal length). */
export function tokensMatch(given: string, token: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The session cookie's value: derived from the token, so the browser never holds the token itself. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('sandbox-routing console session').digest('base64url');
}

/** One cookie's value from a Cookie header; undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Comma-separated host names and `*.suffix` wildcards; a bad entry is a ConfigError naming the setting. */
export function parseAllowedHosts(value: string): string[] {
  const names = value
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ''))
    .filter((entry) => entry !== '');
  for (const name of names) {
    const bare = name.startsWith('*.') ? name.slice(2) : name;
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(bare) && isIP(bare) === 0) {
      throw new ConfigError([
        {
          setting: 'console.allowedHosts',
          env: 'CONSOLE_ALLOWED_HOSTS',
          message: `${JSON.stringify(name)} is not a host name, an IP address or a wildcard like *.preview.signadot.com (no scheme, no port)`,
        },
      ]);
    }
  }
  return names;
}

/**
 * The access rules of a console bound to `settings.host`: the token from `CONSOLE_TOKEN_FILE` (which wins)
 * or `CONSOLE_TOKEN`, and the allowed hosts.
 * @throws ConfigError when the token file cannot be read or is empty, or a non-loopback bind has no token
 */
export function consoleAccessFrom(
  settings: Pick<ConsoleSettings, 'host' | 'token' | 'tokenFile' | 'allowedHosts'>,
): ConsoleAccess {
  let token = settings.token.trim();
  if (settings.tokenFile !== '') {
    try {
      token = readFileSync(settings.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new ConfigError([
        {
          setting: 'console.tokenFile',
          env: 'CONSOLE_TOKEN_FILE',
          message: `cannot read ${settings.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        },
      ]);
    }
    if (token === '') {
      throw new ConfigError([
        {
          setting: 'console.tokenFile',
          env: 'CONSOLE_TOKEN_FILE',
          message: `${settings.tokenFile} is empty`,
        },
      ]);
    }
  }
  if (token === '' && !isLoopbackName(settings.host)) {
    throw new ConfigError([
      {
        setting: 'console.token',
        env: 'CONSOLE_TOKEN',
        message: `required when the console binds a non-loopback address (${settings.host}): set CONSOLE_TOKEN or CONSOLE_TOKEN_FILE (e.g. openssl rand -hex 32), or bind 127.0.0.1`,
      },
    ]);
  }
  return { token: token === '' ? null : token, allowedHosts: parseAllowedHosts(settings.allowedHosts) };
}
