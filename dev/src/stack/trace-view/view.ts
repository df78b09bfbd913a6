/**
 * The local stack's trace view (compiled by `tsc -b` into `dev/dist/stack/trace-view/view.js`, served
 * by Jaeger as `static/view.js`). Two pages, at the URLs Jaeger's own UI uses:
 * - `/trace/<trace id>`: one trace as a waterfall, each span with its service, instance and routing
 *   attributes, all its attributes on demand;
 * - `/` (`?service=&routingKey=`): recent traces of a service, optionally of one routing key.
 * Data comes from Jaeger's query API on the same origin; values are rendered as text, never as HTML.
 */

interface JaegerTag {
  key: string;
  value: unknown;
}
interface JaegerSpan {
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags: JaegerTag[];
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: JaegerTag[] }>;
}
interface JaegerResponse<T> {
  data: T | null;
  errors?: { msg: string }[] | null;
}

const ROUTING_PREFIX = 'sandbox_routing.';
const main = document.getElementById('main') as HTMLElement;
const title = document.getElementById('title') as HTMLElement;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(path);
  const body = (await response.json()) as JaegerResponse<T>;
  if (!response.ok || body.data === null) {
    throw new Error(body.errors?.map((e) => e.msg).join('; ') || `${path}: HTTP ${response.status}`);
  }
  return body.data;
}

function formatMs(micros: number): string {
  const ms = micros / 1000;
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const tagValue = (tags: readonly JaegerTag[] | undefined, key: string) =>
  tags?.find((t) => t.key === key)?.value;

/** Spans in tree order (parents before children, siblings by start), with their depth. */
function treeOrder(spans: JaegerSpan[]): { span: JaegerSpan; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanID));
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const span of spans) {
    const parent = span.references?.find((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))?.spanID;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out: { span: JaegerSpan; depth: number }[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startTime - b.startTime)) {
      out.push({ span, depth });
      visit(span.spanID, depth + 1);
    }
  };
  visit(undefined, 0);
  return out;
}

function chip(key: string, value: unknown, className = 'chip'): HTMLElement {
  const element = el('span', undefined, className);
  element.append(el('b', `${key} `), document.createTextNode(String(value)));
  return element;
}

async function showTrace(traceId: string): Promise<void> {
  const [trace] = await api<JaegerTrace[]>(`api/traces/${encodeURIComponent(traceId)}`);
  if (!trace) throw new Error(`trace ${traceId} not found`);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const total = Math.max(end - start, 1);
  const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
  title.textContent = `trace ${trace.traceID} · ${trace.spans.length} spans · ${services.size} services · ${formatMs(total)}`;
  document.title = `Trace ${trace.traceID.slice(0, 8)} · sandbox-routing`;

  const table = el('table');
  const head = table.createTHead().insertRow();
  for (const name of ['service (instance)', 'span', 'timeline', 'duration', 'routing'])
    head.append(el('th', name));
  const body = table.createTBody();
  for (const { span, depth } of treeOrder(trace.spans)) {
    const process = trace.processes[span.processID];
    const instance =
      tagValue(span.tags, `${ROUTING_PREFIX}instance`) ??
      tagValue(process?.tags, `${ROUTING_PREFIX}instance`);
    const row = body.insertRow();
    row.append(
      el('td', `${process?.serviceName ?? '?'}${instance ? ` (${String(instance)})` : ''}`, 'service'),
    );
    const op = el('td', undefined, 'op');
    op.style.paddingLeft = `${8 + depth * 14}px`;
    op.textContent = span.operationName;
    row.append(op);
    const timeline = el('td', undefined, 'timeline');
    const bar = el(
      'div',
      undefined,
      tagValue(span.tags, 'error') === true || tagValue(span.tags, 'otel.status_code') === 'ERROR'
        ? 'bar error'
        : 'bar',
    );
    bar.style.left = `${((span.startTime - start) / total) * 100}%`;
    bar.style.width = `${(span.duration / total) * 100}%`;
    timeline.append(bar);
    row.append(timeline, el('td', formatMs(span.duration), 'mono'));
    const routing = el('td');
    const chips = el('div', undefined, 'chips');
    for (const tag of span.tags.filter(
      (t) => t.key.startsWith(ROUTING_PREFIX) && t.key !== `${ROUTING_PREFIX}instance`,
    )) {
      const key = tag.key.slice(ROUTING_PREFIX.length);
      chips.append(chip(key, tag.value, key === 'decision' ? 'chip decision' : 'chip'));
    }
    const details = el('details');
    details.append(el('summary', 'all attributes'));
    const list = el('div', undefined, 'mono');
    for (const tag of span.tags) list.append(el('div', `${tag.key} = ${JSON.stringify(tag.value)}`));
    details.append(list);
    routing.append(chips, details);
    row.append(routing);
  }
  main.replaceChildren(table);
}

async function showSearch(params: URLSearchParams): Promise<void> {
  const services = (await api<string[]>('api/services')).sort();
  const service = params.get('service') || (services.includes('producer') ? 'producer' : services[0]);
  const routingKey = params.get('routingKey') ?? '';
  title.textContent = 'recent traces';

  const form = el('form');
  const select = el('select');
  select.name = 'service';
  for (const name of services) {
    const option = el('option', name);
    option.selected = name === service;
    select.append(option);
  }
  const keyInput = el('input');
  keyInput.name = 'routingKey';
  keyInput.placeholder = 'routing key (optional)';
  keyInput.value = routingKey;
  form.append(el('label', 'service'), select, keyInput, el('button', 'Find traces'));
  const content: HTMLElement[] = [form];
  if (service) {
    const query = new URLSearchParams({ service, limit: '50' });
    if (routingKey) query.set('tags', JSON.stringify({ [`${ROUTING_PREFIX}routing_key`]: routingKey }));
    const traces = await api<JaegerTrace[]>(`api/traces?${query}`);
    const table = el('table');
    const head = table.createTHead().insertRow();
    for (const name of ['started', 'trace', 'first span', 'spans', 'services', 'duration'])
      head.append(el('th', name));
    const body = table.createTBody();
    for (const trace of traces.sort(
      (a, b) => Math.min(...b.spans.map((s) => s.startTime)) - Math.min(...a.spans.map((s) => s.startTime)),
    )) {
      const [root] = treeOrder(trace.spans);
      const first = Math.min(...trace.spans.map((s) => s.startTime));
      const last = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
      const row = body.insertRow();
      const link = el('a', trace.traceID, 'mono');
      link.href = `trace/${trace.traceID}`;
      const cell = el('td');
      cell.append(link);
      row.append(
        el('td', new Date(first / 1000).toLocaleTimeString()),
        cell,
        el('td', root?.span.operationName ?? ''),
        el('td', String(trace.spans.length)),
        el('td', [...new Set(Object.values(trace.processes).map((p) => p.serviceName))].join(', ')),
        el('td', formatMs(last - first), 'mono'),
      );
    }
    content.push(traces.length > 0 ? table : el('p', 'no traces yet', 'muted'));
  }
  main.replaceChildren(...content);
}

const traceMatch = /\/trace\/([0-9a-fA-F]{1,32})\/?$/.exec(location.pathname);
(traceMatch?.[1] ? showTrace(traceMatch[1]) : showSearch(new URLSearchParams(location.search))).catch(
  (error: unknown) => {
    main.replaceChildren(el('p', error instanceof Error ? error.message : String(error), 'error-text'));
  },
);
