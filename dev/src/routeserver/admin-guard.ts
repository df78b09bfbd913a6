/**
 * Who may use the stand-in's admin API: this machine only, and never a web page. A page on any site
 * can make the browser send requests to 127.0.0.1 — by DNS rebinding (its own host name resolving to
 * 127.0.0.1: the Host header gives it away) or by a cross-site request (a form, a no-cors fetch: the
 * Origin and Sec-Fetch-Site headers, or a body type a form can send, give it away). The
 * Signadot-compatible read API is not guarded: the real routeserver answers every client too.
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** Loopback: `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8, ::1 and IPv4-mapped 127.x. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^::ffff:127\./.test(name) || /^(0+:){7}0*1$/.test(name);
  return false;
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`); null when it is not one. */
export function hostnameOfHostHeader(host: string | undefined): string | null {
  if (!host) return null;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(host.trim());
  return match?.[1] ?? null;
}

/** Body types a cross-site form or a no-cors fetch may send without a CORS preflight. */
const SIMPLE_BODY_TYPES = /^\s*(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/** Why an admin request is refused: `[status, reason]`, or null to serve it. */
export function adminRequestProblem(request: FastifyRequest): [number, string] | null {
  const remote = request.socket.remoteAddress ?? '';
  if (!isLoopbackName(remote)) {
    return [
      403,
      `the admin API answers loopback clients only (this request came from ${remote || 'an unknown address'})`,
    ];
  }
  const hostname = hostnameOfHostHeader(request.headers.host);
  if (hostname === null || !isLoopbackName(hostname)) {
    return [
      403,
      `the admin API answers loopback host names only (Host ${JSON.stringify(request.headers.host ?? '')}): DNS rebinding is refused`,
    ];
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return [403, `cross-site request refused: Origin ${JSON.stringify(origin)} is not a loopback page`];
  }
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    return [403, `cross-site request refused (Sec-Fetch-Site: ${site})`];
  }
  const type = request.headers['content-type'];
  if (type !== undefined && SIMPLE_BODY_TYPES.test(type)) {
    return [415, `send admin request bodies as application/json (not ${type.split(';')[0]})`];
  }
  return null;
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname);
  } catch {
    return false; // `null` (a sandboxed frame, a file: page) and anything unparsable
  }
}
