/*
 * Internal: the comma-separated list scanner shared by `baggage` and `tracestate`, and the RFC 7230
 * character classes. Not part of the public API.
 */

/** Optional whitespace (RFC 7230 §3.2.3): spaces and horizontal tabs only, never CR/LF or NBSP. */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Removes leading and trailing OWS. Unlike `String.prototype.trim`, keeps CR, LF and Unicode spaces. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** RFC 7230 §3.2.6 `tchar`: ALPHA / DIGIT / one of ``!#$%&'*+-.^_`|~``. */
function isTchar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x21 || // !
    (code >= 0x23 && code <= 0x27) || // # $ % & '
    code === 0x2a || // *
    code === 0x2b || // +
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5e || // ^
    code === 0x5f || // _
    code === 0x60 || // `
    code === 0x7c || // |
    code === 0x7e // ~
  );
}

/** RFC 7230 `token`: one or more tchar. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTchar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * W3C baggage `baggage-octet`: `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`, i.e. printable
 * US-ASCII except space, DQUOTE, comma, semicolon and backslash.
 */
export function isBaggageOctet(code: number): boolean {
  return (
    code === 0x21 ||
    (code >= 0x23 && code <= 0x2b) ||
    (code >= 0x2d && code <= 0x3a) ||
    (code >= 0x3c && code <= 0x5b) ||
    (code >= 0x5d && code <= 0x7e)
  );
}

/** True when every character of `text` is a baggage-octet (the empty string included). */
export function isBaggageOctets(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isBaggageOctet(text.charCodeAt(i))) return false;
  return true;
}

/** UTF-8 length of the UTF-16 code unit at `i` (a lone surrogate counts as U+FFFD, 3 bytes). */
function utf8Length(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    return next >= 0xdc00 && next <= 0xdfff ? 2 : 3; // a pair is 4 bytes, counted 2 + 2
  }
  if (code >= 0xdc00 && code <= 0xdfff) {
    const prev = text.charCodeAt(i - 1);
    return prev >= 0xd800 && prev <= 0xdbff ? 2 : 3;
  }
  return 3;
}

/**
 * Calls `visit` with each raw (untrimmed, possibly empty) list member of the list formed by joining
 * `values` with `,` — repeated headers combine into one list, as RFC 7230 §3.2.2 allows — in order.
 *
 * Size rule: only the first `maxBytes` UTF-8 bytes of that joined list are read. A member that
 * does not end within them is dropped, and scanning stops there; so every visited member lies
 * entirely inside the first `maxBytes` bytes, and work is bounded by `maxBytes` whatever the input
 * size. Scanning also stops when `visit` returns `false`.
 */
export function forEachListMember(
  values: readonly string[],
  maxBytes: number,
  visit: (member: string) => boolean,
): void {
  let used = 0;
  for (let v = 0; v < values.length; v++) {
    const value = values[v];
    if (typeof value !== 'string') continue;
    if (v > 0) used += 1; // the ',' that joins two header values
    if (used > maxBytes) return;
    let start = 0;
    for (;;) {
      let end = start;
      while (end < value.length && value.charCodeAt(end) !== 0x2c) {
        used += utf8Length(value, end);
        if (used > maxBytes) return;
        end++;
      }
      if (!visit(value.slice(start, end))) return;
      if (end >= value.length) break;
      used += 1; // the ',' separator
      if (used > maxBytes) return;
      start = end + 1;
    }
  }
}
