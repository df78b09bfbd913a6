/**
 * A small line chart as SVG text: no browser, no canvas, no dependency, so a load run in a CI job or a
 * Signadot job runner pod can write its chart next to its JSON report, and benchmarks can commit
 * theirs. Every text from outside (owner names, titles) is XML-escaped.
 */

export interface ChartSeries {
  name: string;
  /** [x, y]; a null y breaks the line. */
  points: readonly (readonly [number, number | null])[];
  color: string;
  /** Plot against the right-hand axis. */
  right?: boolean;
  dashed?: boolean;
  /** Dots instead of a line. */
  dots?: boolean;
  /** A dot on each point of the line too (a line of one point shows only that). */
  markers?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Label of the right-hand axis (when some series use it). */
  rightLabel?: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
  /** Logarithmic left axis (values ≤ 0 are not drawn). */
  logY?: boolean;
  /** A horizontal reference line on the left axis, e.g. a latency goal. */
  reference?: { y: number; label: string };
}

/** Colours that stay apart for up to eight series. */
export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );
}

/** 1, 2, 5 × 10ⁿ steps: "nice" tick values from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

function label(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${Math.round(value / 100) / 10}k`;
  return String(Math.round(value * 100) / 100);
}

/** One chart as an SVG element (with its own width and height). */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 320;
  const margin = { top: 36, right: 70, bottom: 46, left: 70 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom - 18 * Math.ceil(options.series.length / 4);
  const points = options.series.flatMap((s) => s.points);
  const xs = points.map(([x]) => x);
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMax = xs.length > 0 ? Math.max(...xs, xMin + 1) : 1;
  const values = (right: boolean) =>
    options.series
      .filter((s) => Boolean(s.right) === right)
      .flatMap((s) => s.points.flatMap(([, y]) => (y === null || !Number.isFinite(y) ? [] : [y])));
  const left = values(false);
  const right = values(true);
  const leftMax = Math.max(...left, options.reference?.y ?? 0, 1) * 1.05;
  const positive = left.filter((v) => v > 0);
  const leftMin = Math.min(...positive, options.reference?.y ?? Number.POSITIVE_INFINITY);
  const logY = Boolean(options.logY) && positive.length > 0;
  const yTicks = logY ? logTicks(Math.max(leftMin, 1e-9), leftMax) : linearTicks(leftMax);
  const yTop = yTicks.at(-1) as number;
  const yBottom = logY ? (yTicks[0] as number) : 0;
  const rTicks = linearTicks(Math.max(...right, 1) * 1.05);
  const rTop = rTicks.at(-1) as number;
  const sx = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) =>
    margin.top +
    plotH -
    (logY
      ? ((Math.log10(y) - Math.log10(yBottom)) / (Math.log10(yTop) - Math.log10(yBottom))) * plotH
      : ((y - yBottom) / (yTop - yBottom)) * plotH);
  const sr = (y: number) => margin.top + plotH - (y / rTop) * plotH;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  for (const tick of yTicks) {
    const y = sy(tick);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${label(tick)}</text>`,
    );
  }
  if (right.length > 0) {
    for (const tick of rTicks) {
      parts.push(
        `<text x="${margin.left + plotW + 6}" y="${sr(tick) + 4}" font-size="11" fill="#666">${label(tick)}</text>`,
      );
    }
    parts.push(
      `<text transform="translate(${width - 14},${margin.top + plotH / 2}) rotate(90)" text-anchor="middle" font-size="12" fill="#666">${escapeXml(options.rightLabel ?? '')}</text>`,
    );
  }
  for (const tick of linearTicks(xMax - xMin).map((t) => t + xMin)) {
    if (tick > xMax) continue;
    const x = sx(tick);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#999"/>`,
    );
    parts.push(
      `<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle" font-size="11">${label(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 34}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16,${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.reference && options.reference.y <= yTop && options.reference.y >= yBottom) {
    const y = sy(options.reference.y);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="2 3"/>`,
      `<text x="${margin.left + plotW - 4}" y="${y - 4}" text-anchor="end" font-size="11" fill="#555">${escapeXml(options.reference.label)}</text>`,
    );
  }
  for (const series of options.series) {
    const scaleY = series.right ? sr : sy;
    const drawable = (y: number | null): y is number =>
      y !== null && Number.isFinite(y) && (series.right || !logY || y > 0);
    if (series.dots || series.markers) {
      for (const [x, y] of series.points) {
        if (drawable(y)) {
          parts.push(
            `<circle cx="${sx(x).toFixed(1)}" cy="${scaleY(y).toFixed(1)}" r="${series.markers ? 3 : 2}" fill="${series.color}"/>`,
          );
        }
      }
      if (series.dots) continue;
    }
    let path = '';
    let pen = false;
    for (const [x, y] of series.points) {
      if (!drawable(y)) {
        pen = false;
        continue;
      }
      path += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${scaleY(y).toFixed(1)}`;
      pen = true;
    }
    if (path) {
      parts.push(
        `<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
  }
  options.series.forEach((series, i) => {
    const x = margin.left + (i % 4) * (plotW / 4);
    const y = height - 10 - 18 * (Math.ceil(options.series.length / 4) - 1 - Math.floor(i / 4));
    // The key looks like the series: dots for a series of dots, a line (with a dot for markers) else.
    parts.push(
      series.dots
        ? `<circle cx="${x + 9}" cy="${y - 4}" r="3" fill="${series.color}"/>`
        : `<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''}/>${series.markers ? `<circle cx="${x + 9}" cy="${y - 4}" r="3" fill="${series.color}"/>` : ''}`,
      `<text x="${x + 24}" y="${y}" font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" role="img"><title>${escapeXml(options.title)}</title>${parts.join('')}</svg>`;
}
