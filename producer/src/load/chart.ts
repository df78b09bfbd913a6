import type { LoadReport, OwnerReport } from './report';
import { escapeXml, lineChart } from './svg-chart';

/** One owner's latency over the run (by send time) and its throughput against the plan. */
export function ownerChart(owner: OwnerReport): string {
  const width = (owner.timeline[1]?.startS ?? 1) - (owner.timeline[0]?.startS ?? 0) || 1;
  const at = (pick: (b: OwnerReport['timeline'][number]) => number | null) =>
    owner.timeline.map((b) => [b.startS, pick(b)] as const);
  return lineChart({
    title: `${owner.name}${owner.routingKey ? ` (key ${owner.routingKey})` : ''}: publish → completed`,
    xLabel: 'seconds since the first send (events grouped by when they were sent)',
    yLabel: 'latency (ms)',
    rightLabel: 'events/s',
    series: [
      { name: 'p50', points: at((b) => b.p50), color: '#1f77b4' },
      { name: 'p99', points: at((b) => b.p99), color: '#d62728' },
      { name: 'max', points: at((b) => b.max), color: '#d62728', dots: true },
      { name: 'planned rate', points: at((b) => b.plannedRate), color: '#999', right: true, dashed: true },
      { name: 'completed/s', points: at((b) => b.completionsDuring / width), color: '#2ca02c', right: true },
      ...(owner.lost > 0
        ? [
            {
              name: 'lost',
              points: at((b) => (b.lost > 0 ? b.lost : null)),
              color: '#000',
              right: true,
              dots: true,
            },
          ]
        : []),
    ],
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
  const rows = report.owners
    .map(
      (o) =>
        `<tr>${[o.name, o.sent, o.started, o.completed, o.misrouted, o.lost, o.duplicates, o.failed, o.latencyMs.p50, o.latencyMs.p95, o.latencyMs.p99, o.latencyMs.max, o.sentRate, o.completedRate].map(cell).join('')}</tr>`,
    )
    .join('\n');
  const verdict = report.passed
    ? '<p class="ok">passed</p>'
    : `<p class="bad">failed</p><ul>${report.failures.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>`;
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
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>load ${escapeXml(report.runId)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}svg{display:block;margin:16px 0}</style>
</head><body>
<h1>producer load ${escapeXml(report.runId)}</h1>
<p>${escapeXml(`${report.startedAt} → ${report.finishedAt}; topic ${report.plan.topic}; per owner ${stages} (${report.plan.eventsPerOwner} events); drain ${report.plan.drainTimeoutMs / 1000} s`)}${report.interrupted ? ' <b>(interrupted)</b>' : ''}</p>
${verdict}
${thresholds ? `<ul>${thresholds}</ul>` : ''}
<table><tr><th>owner</th><th>sent</th><th>started</th><th>completed</th><th>misrouted</th><th>lost</th><th>duplicates</th><th>failed</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>sent/s</th><th>completed/s</th></tr>
${rows}
</table>
${report.owners.map((o) => ownerChart(o)).join('\n')}
</body></html>
`;
}
