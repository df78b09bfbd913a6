/**
 * `producer load`: load tests per owner (baseline, sandbox, routing key) that learn each event's
 * outcome from the trail records the workers publish. `command.ts` is the CLI on top of `runLoad`.
 */
export { reportHtml } from './chart';
export { LOAD_EXIT, type LoadFlags, parseLoadArgs } from './command';
export { type LoadCommandConfig, loadCommandSchema, loadLoadCommandConfig } from './config';
export {
  type Backlog,
  backlogWarning,
  type LoadInspector,
  pipelineInspector,
  type WorkflowState,
} from './inspect';
export { decodeLatencies, LatencyRecorder, type LatencySummary } from './latency';
export { parseDurationMs, parseRampStage } from './options';
export { type LoadOwner, type OwnerRequest, OwnerResolutionError, resolveOwners } from './owners';
export { formatProgress, type LoadProgress, STALL_MS, stallHint } from './progress';
export {
  formatReport,
  type KeptUp,
  LOAD_REPORT_VERSION,
  type LoadReport,
  type LoadTotals,
  type OwnerReport,
  type TimelineBucket,
} from './report';
export { type LoadRunOptions, runLoad } from './run';
export { MAX_EVENTS_PER_OWNER, RateSchedule, type RateStage } from './schedule';
export { type EventTiming, judgeStep, percentile, throughputOf } from './sustained';
export { type ChartOptions, type ChartSeries, escapeXml, lineChart, PALETTE } from './svg-chart';
export { evaluateThresholds, parseThreshold, type Threshold, type ThresholdResult } from './thresholds';
