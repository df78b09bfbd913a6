/**
 * Where the metrics of a Prometheus text exposition break the naming conventions
 * (prometheus.io/docs/practices/naming): a counter's name ends in `_total` and nothing else's does;
 * histograms and summaries measure in a base unit named last (`_seconds`, `_bytes`); no
 * non-base units (`_milliseconds`, `_ms`); names are snake_case; and this project's own metrics share
 * one prefix. prom-client's default `process_` and `nodejs_` metrics are not checked: they keep the
 * names dashboards know, gauges like `nodejs_active_handles_total` included. Empty when all is well.
 */
export function prometheusNamingProblems(exposition: string, prefix = 'sandbox_routing_'): string[] {
  const problems: string[] = [];
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type = ''] = match;
    const say = (what: string) => problems.push(`${name} (${type}): ${what}`);
    if (/^(process|nodejs)_/.test(name)) continue;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) say('not snake_case');
    if (type === 'counter' && !name.endsWith('_total')) say('a counter must end in _total');
    if (type !== 'counter' && name.endsWith('_total')) say('only counters end in _total');
    if ((type === 'histogram' || type === 'summary') && !/_(seconds|bytes)$/.test(name))
      say('a histogram or summary names its base unit last (_seconds, _bytes)');
    if (/_(milliseconds|ms|millis|micros|minutes|hours)(_|$)/.test(name)) say('use base units (seconds)');
    if (!name.startsWith(prefix)) say(`not prefixed ${prefix}`);
  }
  return problems;
}
