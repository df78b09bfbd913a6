/**
 * The console page's script (compiled by `tsc -b` into `dist/console/page/app.js`, served as
 * `/console.js`). It renders the server's JSON with `textContent` and attributes only, never as HTML,
 * so values from events, headers and the routeserver stay inert text.
 */
import type {
  WireBoot,
  WireCounters,
  WireOwner,
  WireOwnerStatus,
  WireOwnersUpdate,
  WireProblem,
  WireRow,
  WireRowsUpdate,
  WireSnapshot,
} from './wire';

/** Rows shown at most; older ones drop off the bottom. */
const MAX_ROWS = 200;
/** Value of the owner option for the requested key when no rule names it. */
const REQUESTED_KEY_OPTION = 'requested-key';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page element #${id} is missing`);
  return element as T;
}

/** An element with text content (never HTML) and optional class. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | null,
  className?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = text;
  if (className) element.className = className;
  return element;
}

const boot: WireBoot = JSON.parse(byId('boot').textContent ?? '{}') as WireBoot;
const ownerSelect = byId<HTMLSelectElement>('owner');
const ownerDetail = byId('owner-detail');
const form = byId<HTMLFormElement>('send-form');
const result = byId('send-result');
const trailBody = byId<HTMLTableElement>('trail').tBodies[0] as HTMLTableSectionElement;
const countersBody = byId('counters').querySelector('tbody') as HTMLTableSectionElement;

let owners: WireOwner[] = [];
/** The owner picked by hand; kept across owner list refreshes. */
let chosen: string | null = null;
const rows = new Map<string, WireRow>();

function ownerText(owner: WireOwner): string {
  if (owner.kind === 'baseline') return 'baseline (no routing key)';
  const kind = owner.kind === 'key' ? 'routing key' : owner.kind;
  return `${owner.label} · ${kind} ${owner.routingKey ?? ''}`;
}

function describeOwner(owner: WireOwner | undefined): string {
  if (!owner) {
    const key = boot.requested?.key ?? '';
    return `Routing key ${key} has no rule for the worker or the ingress: its events run on the baseline.`;
  }
  const parts = [`worker → ${owner.workerOwner}`, `ingress → ${owner.ingressOwner}`];
  if (owner.members.length > 0) parts.push(`members: ${owner.members.join(', ')}`);
  return parts.join(' · ');
}

function renderOwners(list: WireOwner[], status: WireOwnerStatus): void {
  owners = list;
  const requestedKey = boot.requested?.key;
  const requestedOwner = requestedKey ? list.find((o) => o.routingKey === requestedKey) : undefined;
  const current = chosen ?? requestedOwner?.id ?? (requestedKey ? REQUESTED_KEY_OPTION : 'baseline');
  ownerSelect.replaceChildren(
    ...list.map((owner) => {
      const option = el('option', ownerText(owner));
      option.value = owner.id;
      return option;
    }),
  );
  if (requestedKey && !requestedOwner) {
    const option = el('option', `routing key ${requestedKey} (from this request; no rule)`);
    option.value = REQUESTED_KEY_OPTION;
    ownerSelect.append(option);
  }
  const values = [...ownerSelect.options].map((o) => o.value);
  ownerSelect.value = values.includes(current) ? current : 'baseline';
  ownerDetail.textContent = describeOwner(owners.find((o) => o.id === ownerSelect.value));
  const pill = byId('routeserver');
  pill.textContent = status.error
    ? `routeserver: ${status.error} (showing the last list)`
    : `routeserver: ${list.length - 1} routing key(s)`;
  pill.className = `pill ${status.error ? 'bad' : 'ok'}`;
}

function renderCounters(counters: Record<string, WireCounters>): void {
  const names = Object.keys(counters).sort((a, b) =>
    a === 'baseline' ? -1 : b === 'baseline' ? 1 : a.localeCompare(b),
  );
  countersBody.replaceChildren(
    ...names.map((name) => {
      const c = counters[name] as WireCounters;
      const tr = el('tr');
      tr.dataset.owner = name;
      tr.append(el('td', name));
      tr.append(
        el('td', c.sent === c.events ? String(c.events) : `${c.events} (${c.sent} sent here)`, 'num'),
      );
      for (const value of [c.running, c.completed, c.failed, c.misplaced])
        tr.append(el('td', String(value), 'num'));
      return tr;
    }),
  );
}

function ms(value: number | null): string {
  return value === null ? '' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(2)} s`;
}

function cell(...lines: (string | HTMLElement)[]): HTMLTableCellElement {
  const td = el('td');
  for (const line of lines) td.append(typeof line === 'string' ? el('span', line, 'step') : line);
  return td;
}

function rowElement(row: WireRow): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.workflowId = row.workflowId;
  tr.dataset.eventId = row.eventId ?? '';
  tr.dataset.status = row.status;
  tr.dataset.endedOn = row.endedOn ?? '';
  if (row.misplaced.length > 0) tr.classList.add('misplaced');

  const link = el('a', row.eventId ?? row.workflowId, 'mono');
  // The server builds the URL from its settings; only http(s) links are made.
  if (/^https?:\/\//.test(row.temporalUrl)) {
    link.href = row.temporalUrl;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.title = 'open the workflow in the Temporal UI';
  }
  const via = row.via ? `via ${row.via}` : 'sent elsewhere';
  const first = cell(link, el('span', via, 'step muted'));
  if (row.traceUrl && /^https?:\/\//.test(row.traceUrl)) {
    const trace = el('a', 'trace', 'step trace');
    trace.href = row.traceUrl;
    trace.target = '_blank';
    trace.rel = 'noopener noreferrer';
    trace.title = "open the event's trace (producer → ingress → workflow → activities)";
    first.append(trace);
  }
  if (row.payloadPreview) first.append(el('span', row.payloadPreview, 'step mono payload'));
  tr.append(first);
  const judgedBy =
    row.expectedBy === 'decision'
      ? 'as decided'
      : row.expectedBy === 'rules-when-sent'
        ? 'rules when sent'
        : 'rules when seen';
  tr.append(
    cell(row.routingKey ?? '(no key)', `→ ${row.expected.worker}`, el('span', judgedBy, 'step muted')),
  );
  tr.append(
    cell(
      row.published
        ? `${row.published.topic} p${row.published.partition} @${row.published.offset}`
        : row.via === 'temporal'
          ? 'started on the shared queue'
          : '',
    ),
  );
  tr.append(cell(row.ingestedBy ?? (row.via === 'temporal' ? '(not via Kafka)' : '')));
  tr.append(
    cell(
      ...row.runs.map((run) => {
        const hop = run.outcome === 'continued-as-new' ? ` ↪ ${run.nextTaskQueue ?? ''}` : '';
        const failures = run.taskFailures > 0 ? ` (${run.taskFailures} task failure(s))` : '';
        return `${run.instance} on ${run.taskQueue}${hop}${failures}`;
      }),
    ),
  );
  tr.append(
    cell(
      ...row.runs.flatMap((run) =>
        run.activities.map(
          (a) =>
            `${a.activityType} @${a.instance}${a.attempt > 1 ? ` #${a.attempt}` : ''} ${a.outcome === 'failed' ? `failed: ${a.error?.message ?? ''}` : ms(a.durationMs)}`,
        ),
      ),
    ),
  );
  const status = el(
    'span',
    row.status === 'completed' ? `completed on ${row.endedOn ?? '?'}` : row.status,
    `step status-${row.status}`,
  );
  const timing =
    row.completedAfterMs === null
      ? ''
      : `${ms(row.completedAfterMs)} after ${row.timedFrom === 'sent' ? 'sending' : 'its first trail record'}`;
  const outcome = cell(status, timing);
  for (const problem of row.misplaced) outcome.append(el('span', problem, 'problem'));
  const failed = row.runs.find((r) => r.error && r.outcome === 'failed');
  if (failed?.error) outcome.append(el('span', failed.error.message, 'step'));
  tr.append(outcome);
  return tr;
}

function renderRows(): void {
  const sorted = [...rows.values()].sort((a, b) =>
    a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0,
  );
  for (const stale of sorted.slice(MAX_ROWS)) rows.delete(stale.workflowId);
  trailBody.replaceChildren(...sorted.slice(0, MAX_ROWS).map(rowElement));
}

let renderPending = false;
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderRows();
  });
}

function connect(): void {
  const pill = byId('connection');
  const stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => {
    pill.textContent = 'live';
    pill.className = 'pill ok';
  });
  stream.addEventListener('error', () => {
    pill.textContent = 'reconnecting…';
    pill.className = 'pill bad';
  });
  stream.addEventListener('snapshot', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as WireSnapshot;
    renderOwners(data.owners, data.status);
    rows.clear();
    for (const row of data.rows) rows.set(row.workflowId, row);
    renderCounters(data.counters);
    byId('where').textContent =
      `queue ${data.info.sharedQueue} · namespace ${data.info.namespace} · trail from ${data.info.resultsTopic}`;
    scheduleRender();
  });
  stream.addEventListener('rows', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as WireRowsUpdate;
    for (const row of data.rows) rows.set(row.workflowId, row);
    renderCounters(data.counters);
    scheduleRender();
  });
  stream.addEventListener('owners', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as WireOwnersUpdate;
    renderOwners(data.owners, data.status);
  });
}

ownerSelect.addEventListener('change', () => {
  chosen = ownerSelect.value;
  ownerDetail.textContent = describeOwner(owners.find((o) => o.id === ownerSelect.value));
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = byId<HTMLButtonElement>('send');
  const via = (form.querySelector('input[name=via]:checked') as HTMLInputElement | null)?.value ?? 'kafka';
  const target =
    ownerSelect.value === REQUESTED_KEY_OPTION
      ? { routingKey: boot.requested?.key }
      : { ownerId: ownerSelect.value };
  const body = {
    ...target,
    via,
    type: byId<HTMLInputElement>('type').value.trim(),
    payload: byId<HTMLTextAreaElement>('payload').value,
    count: Number(byId<HTMLInputElement>('count').value),
  };
  button.disabled = true;
  result.className = '';
  result.textContent = 'sending…';
  try {
    const response = await fetch('/api/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { events?: { eventId: string }[] } & Partial<WireProblem>;
    if (!response.ok) {
      result.className = 'error';
      result.textContent = `${response.status} ${answer.error ?? ''}: ${answer.message ?? 'request failed'}`;
      return;
    }
    const ids = (answer.events ?? []).map((e) => e.eventId);
    result.textContent = `sent ${ids.length} event(s) via ${via}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}`;
  } catch (error) {
    result.className = 'error';
    result.textContent = `could not reach the console: ${(error as Error).message}`;
  } finally {
    button.disabled = false;
  }
});

connect();
