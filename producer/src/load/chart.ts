import { backlogWarning } from './inspect';
import { keptUpLine, type LoadReport, type OwnerReport } from './report';
import { type ChartSeries, escapeXml, lineChart } from './svg-chart';

/**
 * The series of an owner's chart: latency percentiles on the left axis (each its own colour), rates on
 * the right one, all per second (of the events sent in each slice, those not completed too).
 */
export function ownerSeries(owner: OwnerReport): ChartSeries[] {
  const width = (owner.timeline[1]?.startS ?? 1) - (owner.timeline[0]?.startS ?? 0) || 1;
  const at = (pick: (b: OwnerReport['timeline'][number]) => number | null) =>
    owner.timeline.map((b) => [b.startS, pick(b)] as const);
  const notCompleted = owner.timeline.some((b) => b.notCompleted > 0);
  return [
    { name: 'p50', points: at((b) => b.p50), color: '#1f77b4' },
    { name: 'p99', points: at((b) => b.p99), color: '#d62728' },
    { name: 'max', points: at((b) => b.max), color: '#ff7f0e', dots: true },
    { name: 'planned rate', points: at((b) => b.plannedRate), color: '#999', right: true, dashed: true },
    { name: 'completed/s', points: at((b) => b.completionsDuring / width), color: '#2ca02c', right: true },
    // Of the events sent in that slice, those not completed: per second, like the rest of the right axis.
    ...(notCompleted
      ? [
          {
            name: 'not completed /s',
            points: at((b) => (b.notCompleted > 0 ? b.notCompleted / width : null)),
            color: '#000',
            right: true,
            dots: true,
          },
        ]
      : []),
  ];
}

/** One owner's latency over the run (by send time) and its throughput against the plan. */
export function ownerChart(owner: OwnerReport): string {
  return lineChart({
    title: `${owner.name}${owner.routingKey ? ` (key ${owner.routingKey})` : ''}: publish → completed`,
    xLabel: 'seconds since the first send (events grouped by when they were sent)',
    yLabel: 'latency (ms)',
    rightLabel: 'events/s',
    series: ownerSeries(owner),
    width: 960,
    height: 320,
  });
}

const cell = (value: string | number | null) => `<td>${escapeXml(value === null ? '-' : String(value))}</td>`;

/**
 * The report as one self-contained HTML page (no script, no external file): the verdict, the table,
 * and a latency-over-time chart per owner. Open it in any browser, or keep it as a CI artifact.
 */
export function reportHtml(report: LoadReport): string {
  const rows = [...report.owners, ...(report.owners.length > 1 ? [{ ...report.overall, name: 'all' }] : [])]
    .map(
      (o) =>
        `<tr>${[o.name, o.sent, o.decided, o.started, o.completed, o.unfinished, o.misrouted, o.duplicates, o.failed, o.deadLettered, o.latencyMs.p50, o.latencyMs.p95, o.latencyMs.p99, o.latencyMs.max, o.sentRate, o.completedRate].map(cell).join('')}</tr>`,
    )
    .join('\n');
  // Each failure once: the checks here, the thresholds (met or not) in their own list below.
  const verdict = report.passed
    ? '<p class="ok">passed</p>'
    : `<p class="bad">failed</p>${report.problems.length > 0 ? `<ul>${report.problems.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>` : ''}`;
  const thresholds = report.thresholds
    .map(
      (t) =>
        `<li class="${t.ok ? 'ok' : 'bad'}">${escapeXml(`${t.ok ? '✓' : '✗'} ${t.expression} (${t.actual ?? 'no value'})`)}</li>`,
    )
    .join('');
  const stages = report.plan.stages
    .map((s) =>
      s.from === s.to
        ? `${s.from}/s for ${s.durationMs / 1000} s`
        : `${s.from}→${s.to}/s over ${s.durationMs / 1000} s`,
    )
    .join(', then ');
  const warning = report.backlog ? backlogWarning(report.backlog) : undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>load ${escapeXml(report.runId)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}.warn{color:#8a5a00}svg{display:block;margin:16px 0}</style>
</head><body>
<h1>producer load ${escapeXml(report.runId)}</h1>
<p>${escapeXml(`${report.startedAt} → ${report.finishedAt}; topic ${report.plan.topic}; per owner ${stages} (${report.plan.eventsPerOwner} events); drain ${report.plan.drainTimeoutMs / 1000} s`)}${report.interrupted ? ' <b>(interrupted)</b>' : ''}</p>
${warning ? `<p class="warn">${escapeXml(`Before the run, ${warning}.`)}</p>` : ''}
${verdict}
${thresholds ? `<ul>${thresholds}</ul>` : ''}
<p>${escapeXml(keptUpLine(report))}</p>
<table><tr><th>owner</th><th>sent</th><th>decided</th><th>started</th><th>completed</th><th>unfinished</th><th>misrouted</th><th>duplicates</th><th>failed</th><th>dead-lettered</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>sent/s</th><th>completed/s</th></tr>
${rows}
</table>
${report.owners.map((o) => ownerChart(o)).join('\n')}
</body></html>
`;
}
