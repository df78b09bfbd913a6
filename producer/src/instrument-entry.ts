/**
 * The producer's `--require` entry, as its start commands name it (relative to the repository root,
 * where the image and the npm scripts run it). Commands that start telemetry themselves pass it to
 * `serviceTelemetry`, which then knows whether the entry already ran.
 */
export const PRODUCER_INSTRUMENT_ENTRY = './producer/dist/instrument.js';
