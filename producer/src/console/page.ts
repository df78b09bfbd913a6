import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The console page: a fixed HTML shell and style, and the script compiled from `page/app.ts` (by
 * `tsc -b`, into `dist/console/page/app.js`, so it ships wherever `producer/dist` does). The only
 * value put into the HTML is the requested routing key, JSON-encoded into a data block with `<`
 * escaped; everything else reaches the page as JSON and is rendered as text.
 */

export const CONSOLE_SCRIPT_PATH = '/console.js';
export const LOGIN_PATH = '/login';

/** The tab icon, a 16×16 PNG (a blue disc), answered at `/favicon.ico` where browsers ask for it. */
export const FAVICON_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAM0lEQVR42mNgoDYwtTj7Hx+mSDNeQ4jVjNUQUjVjGIIugQuMGkBPA+iSFqiflKmSmcgBAM48vcjS/xNXAAAAAElFTkSuQmCC',
  'base64',
);

/** Text for an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The login page: one field, the token, posted to itself; the cookie it sets is HttpOnly. */
export function loginHtml(options: { next: string; failed: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sandbox-routing console: log in</title>
<link rel="stylesheet" href="/console.css">
<link rel="icon" type="image/png" href="/favicon.ico">
</head>
<body>
<header><h1>sandbox-routing console</h1></header>
<main class="login">
  <form method="post" action="${LOGIN_PATH}">
    <h2>Log in</h2>
    <label for="token">Console token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <input type="hidden" name="next" value="${escapeHtml(options.next)}">
    <p class="muted">The token is in the Secret <code>console-token</code> (<code>kubectl -n sandbox-routing get secret console-token -o jsonpath='{.data.token}' | base64 -d</code>), or <code>CONSOLE_TOKEN</code> / <code>CONSOLE_TOKEN_FILE</code> where the console runs.</p>
    ${options.failed ? '<p id="login-error" class="error" role="alert">That is not the console token.</p>' : ''}
    <button type="submit" id="login">Log in</button>
  </form>
</main>
</body>
</html>
`;
}

/** The compiled page script. */
export function loadConsoleScript(): string {
  return readFileSync(path.join(__dirname, 'page', 'app.js'), 'utf8');
}

/** The shell page, with the routing key the request carried (baggage or `?sd-routing-key=`). */
export function consoleHtml(requested: { key: string; source: 'header' | 'query' } | null): string {
  // JSON in a non-executed data block; `<` escaped so no value can close the element.
  const boot = JSON.stringify({ requested }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sandbox-routing console</title>
<link rel="stylesheet" href="/console.css">
<link rel="icon" type="image/png" href="/favicon.ico">
<script type="application/json" id="boot">${boot}</script>
<script type="module" src="${CONSOLE_SCRIPT_PATH}"></script>
</head>
<body>
<header>
  <h1>sandbox-routing console</h1>
  <span id="connection" class="pill">connecting…</span>
  <span id="routeserver" class="pill"></span>
  <span id="where" class="muted"></span>
</header>
<section id="counters" aria-label="per-owner counters">
  <table><thead><tr><th>owner</th><th>events</th><th>running</th><th>completed</th><th>failed</th><th>misplaced</th></tr></thead><tbody></tbody></table>
</section>
<main>
  <form id="send-form" novalidate>
    <h2>Send events</h2>
    <label for="owner">Owner</label>
    <select id="owner" name="owner"></select>
    <p id="owner-detail" class="muted"></p>
    <fieldset>
      <legend>How</legend>
      <label><input type="radio" name="via" value="kafka" checked> through Kafka <span class="muted">(the pipeline: ingress → Temporal)</span></label>
      <label><input type="radio" name="via" value="temporal"> straight to Temporal <span class="muted">(a start on the shared queue; the worker redirects it)</span></label>
    </fieldset>
    <label for="type">Event type</label>
    <input id="type" name="type" value="order.created" maxlength="200" autocomplete="off">
    <label for="payload">Payload <span class="muted">(a JSON object; <code>{{seq}}</code> and <code>{{id}}</code> are filled in per event)</span></label>
    <textarea id="payload" name="payload" rows="7" spellcheck="false">{"orderId": "{{id}}", "items": [{"sku": "SKU-1", "qty": {{seq}}}]}</textarea>
    <label for="count">Count</label>
    <input id="count" name="count" type="number" min="1" max="100" value="1">
    <button type="submit" id="send">Send</button>
    <p id="send-result" role="status"></p>
  </form>
  <section id="trail-section">
    <h2>Live trail <span class="muted">(newest first; misplaced events in red)</span></h2>
    <table id="trail">
      <thead><tr><th>event</th><th>key → expected</th><th>published</th><th>ingress</th><th>workflow</th><th>activities</th><th>result</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
</body>
</html>
`;
}

export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1d2430; --muted: #667085; --line: #d0d5dd; --ok: #067647; --bad: #b42318; --bg-bad: #fef3f2; --accent: #3538cd; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f8f9fb; }
header { display: flex; gap: 12px; align-items: center; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 17px; margin: 0 12px 0 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
.muted { color: var(--muted); font-weight: normal; }
.pill { border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; font-size: 12px; background: #fff; }
.pill.ok { border-color: var(--ok); color: var(--ok); }
.pill.bad { border-color: var(--bad); color: var(--bad); }
#counters { padding: 10px 20px 0; }
main { display: grid; grid-template-columns: minmax(260px, 320px) minmax(0, 1fr); gap: 20px; padding: 14px 20px 30px; align-items: start; }
form { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; display: flex; flex-direction: column; gap: 6px; }
form label { font-weight: 600; }
fieldset { border: 1px solid var(--line); border-radius: 6px; display: flex; flex-direction: column; gap: 4px; }
fieldset label { font-weight: normal; }
input, select, textarea, button { font: inherit; }
input:not([type=radio]), select, textarea { width: 100%; padding: 5px 7px; border: 1px solid var(--line); border-radius: 5px; background: #fff; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
button { margin-top: 6px; padding: 7px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font-weight: 600; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
#send-result { min-height: 1.4em; margin: 4px 0 0; white-space: pre-wrap; }
#send-result.error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #f2f4f7; }
#counters table { width: auto; min-width: 520px; }
#counters td.num { text-align: right; font-variant-numeric: tabular-nums; }
#trail td { font-size: 12.5px; }
#trail .step { display: block; overflow-wrap: anywhere; }
#trail-section { min-width: 0; overflow-x: auto; }
#trail td:first-child { min-width: 160px; }
#trail td { max-width: 320px; }
#trail td:nth-child(2) .step, #trail td:nth-child(6) .step { overflow-wrap: normal; white-space: nowrap; }
#trail .payload { white-space: normal; max-width: 240px; overflow-wrap: anywhere; color: var(--muted); }
#trail tr.misplaced td { background: var(--bg-bad); color: var(--bad); }
#trail tr.misplaced .problem { display: block; font-weight: 600; }
.status-completed { color: var(--ok); font-weight: 600; }
.status-failed, .status-cancelled { color: var(--bad); font-weight: 600; }
.status-running, .status-sent { color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
a { color: var(--accent); }
main.login { display: block; max-width: 420px; margin: 40px auto; }
.error { color: var(--bad); font-weight: 600; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;
