/*
 * What a redirect carries from the first run to the owner's run, as pure functions (unit-tested
 * without a server). Safe inside the workflow sandbox: imports only @temporalio/common.
 *
 * The first run continues-as-new onto the owner's queue with its own input payloads, byte for byte,
 * followed by the payloads of every signal it received (arguments, then headers), and a small JSON
 * manifest header that says how to split them again. Signal payloads travel in the *input*, not in
 * headers, because the input goes through the worker's PayloadCodec (encryption, compression) and
 * headers do not: a signal's arguments never reach history in clear because of a redirect.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

/** Header of a redirected run: the manifest of its input (a JSON payload). */
export const REDIRECT_MANIFEST_HEADER = 'sd-redirected';

/** A signal the first run received, as the activation delivered it (raw payloads). */
export interface ForwardedSignal {
  signalName: string;
  input: Payload[];
  headers: Record<string, Payload>;
}

/** The JSON the manifest header holds. */
interface RedirectManifest {
  v: 1;
  /** How many leading input payloads are the workflow's own arguments. */
  arguments: number;
  /** In arrival order: the name, how many argument payloads, and the header names (payloads follow in this order). */
  signals: { name: string; args: number; headers: string[] }[];
  /** The first run was asked to cancel before it was redirected. */
  cancelRequested?: boolean;
}

/** What the owner's run is started with. */
export interface PackedRedirect {
  /** The continue-as-new input: the workflow's arguments, then each signal's arguments and headers. */
  input: Payload[];
  /** Headers to add to the run's start headers; empty when there is nothing to forward. */
  headers: Record<string, Payload>;
}

/** What the owner's run unpacks from its start. */
export interface UnpackedRedirect {
  /** The workflow's own arguments. */
  arguments: Payload[];
  signals: ForwardedSignal[];
  cancelRequested: boolean;
}

/**
 * Packs the first run's arguments and the signals it received for the continue-as-new onto the
 * owner's queue. Without signals or a cancel request the input is the arguments alone and no header
 * is added, so a plain redirect starts exactly like the first run did.
 */
export function packRedirect(
  args: readonly Payload[],
  signals: readonly ForwardedSignal[],
  cancelRequested: boolean,
): PackedRedirect {
  if (signals.length === 0 && !cancelRequested) return { input: [...args], headers: {} };
  const input = [...args];
  const manifest: RedirectManifest = { v: 1, arguments: args.length, signals: [] };
  for (const signal of signals) {
    const headerNames = Object.keys(signal.headers).sort();
    manifest.signals.push({ name: signal.signalName, args: signal.input.length, headers: headerNames });
    input.push(...signal.input);
    for (const name of headerNames) input.push(signal.headers[name] as Payload);
  }
  if (cancelRequested) manifest.cancelRequested = true;
  return { input, headers: { [REDIRECT_MANIFEST_HEADER]: defaultPayloadConverter.toPayload(manifest) } };
}

const MAX_MANIFEST_BYTES = 1024 * 1024;

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** The manifest of `headers`, when present and well-formed. */
function readManifest(headers: Readonly<Record<string, Payload>> | undefined): RedirectManifest | undefined {
  const payload = headers?.[REDIRECT_MANIFEST_HEADER];
  if (!payload?.data || payload.data.length > MAX_MANIFEST_BYTES) return undefined;
  let value: unknown;
  try {
    value = defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
  const manifest = value as Partial<RedirectManifest> | null;
  if (manifest?.v !== 1 || !isCount(manifest.arguments) || !Array.isArray(manifest.signals)) return undefined;
  const signalsOk = manifest.signals.every(
    (s) =>
      typeof s?.name === 'string' &&
      s.name.length > 0 &&
      isCount(s.args) &&
      Array.isArray(s.headers) &&
      s.headers.every((h) => typeof h === 'string'),
  );
  return signalsOk ? (manifest as RedirectManifest) : undefined;
}

/**
 * Splits the start of a redirected run back into the workflow's arguments and the forwarded signals.
 * `undefined` when the run was not redirected with forwarded messages, or when the manifest does not
 * match the input (then the input is left whole: a run never fails on a header it cannot read).
 */
export function unpackRedirect(
  headers: Readonly<Record<string, Payload>> | undefined,
  input: readonly Payload[],
): UnpackedRedirect | undefined {
  const manifest = readManifest(headers);
  if (!manifest) return undefined;
  const needed = manifest.signals.reduce((sum, s) => sum + s.args + s.headers.length, manifest.arguments);
  if (needed !== input.length) return undefined;
  let at = manifest.arguments;
  const take = (count: number) => {
    const taken = input.slice(at, at + count);
    at += count;
    return taken;
  };
  const signals = manifest.signals.map((s): ForwardedSignal => {
    const signalInput = take(s.args);
    const headerPayloads = take(s.headers.length);
    return {
      signalName: s.name,
      input: signalInput,
      headers: Object.fromEntries(s.headers.map((name, i) => [name, headerPayloads[i] as Payload])),
    };
  });
  return {
    arguments: input.slice(0, manifest.arguments),
    signals,
    cancelRequested: manifest.cancelRequested === true,
  };
}
