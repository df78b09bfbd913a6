import { readFileSync, statSync } from 'node:fs';
import type { Schema } from 'convict';
import { ConfigError, type ConfigProblem } from './load';

/**
 * Secured connections to Kafka (TLS, mTLS, SASL) and Temporal (TLS, mTLS, API keys): the settings,
 * and the functions that turn them into client options. Files (`*_FILE`) are for Kubernetes Secrets
 * mounted as volumes; a `*_FILE` wins over the plain variable. Files are read, and every combination
 * checked, at start: a problem is a {@link ConfigError} naming the setting, as for any other setting.
 */

export type KafkaSaslMechanism = 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSecurityConfig {
  /** Connect over TLS (implied by any TLS file). */
  tls: boolean;
  tlsCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsServerName: string;
  saslMechanism: KafkaSaslMechanism;
  saslUsername: string;
  saslPassword: string;
  saslPasswordFile: string;
}

export function kafkaSecuritySchema(): Schema<KafkaSecurityConfig> {
  return {
    tls: {
      doc: 'Connect to Kafka over TLS (implied when any KAFKA_TLS_* file is set).',
      format: 'strict-boolean',
      default: false,
      env: 'KAFKA_TLS',
    },
    tlsCaFile: {
      doc: "PEM CA bundle to verify the brokers' certificates; empty: the system's CAs.",
      format: String,
      default: '',
      env: 'KAFKA_TLS_CA_FILE',
    },
    tlsCertFile: {
      doc: 'PEM client certificate (mTLS, e.g. Aiven); set with KAFKA_TLS_KEY_FILE.',
      format: String,
      default: '',
      env: 'KAFKA_TLS_CERT_FILE',
    },
    tlsKeyFile: {
      doc: 'PEM private key of the client certificate; set with KAFKA_TLS_CERT_FILE.',
      format: String,
      default: '',
      env: 'KAFKA_TLS_KEY_FILE',
    },
    tlsServerName: {
      doc: 'Name to verify the broker certificates against (SNI) when it differs from the address; empty: the address.',
      format: String,
      default: '',
      env: 'KAFKA_TLS_SERVER_NAME',
    },
    saslMechanism: {
      doc: "SASL mechanism: 'none', 'plain', 'scram-sha-256' or 'scram-sha-512'.",
      format: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'],
      default: 'none',
      env: 'KAFKA_SASL_MECHANISM',
    },
    saslUsername: {
      doc: 'SASL user name.',
      format: String,
      default: '',
      env: 'KAFKA_SASL_USERNAME',
    },
    saslPassword: {
      doc: 'SASL password (secret, never logged); KAFKA_SASL_PASSWORD_FILE wins.',
      format: String,
      default: '',
      env: 'KAFKA_SASL_PASSWORD',
      sensitive: true,
    },
    saslPasswordFile: {
      doc: 'File holding the SASL password (a mounted Secret); wins over KAFKA_SASL_PASSWORD.',
      format: String,
      default: '',
      env: 'KAFKA_SASL_PASSWORD_FILE',
    },
  };
}

/** kafkajs's `ssl` and `sasl` options, described structurally (service-kit does not depend on kafkajs). */
export interface KafkaSecurityOptions {
  ssl?: true | { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  sasl?: KafkaSaslOption;
}

type SaslMechanismInUse = Exclude<KafkaSaslMechanism, 'none'>;
/** One object type per mechanism, as kafkajs's `SASLOptions` union has them. */
type KafkaSaslOption = {
  [M in SaslMechanismInUse]: { mechanism: M; username: string; password: string };
}[SaslMechanismInUse];

/** Reads the files a secured-connection part names, collecting problems that name each setting. */
class SettingReader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly prefix: string) {}

  problem(key: string, env: string, message: string): void {
    this.problems.push({ setting: `${this.prefix}.${key}`, env, message });
  }

  /** The file's content, or undefined (with a problem) when it cannot be read or lacks `mustContain`. */
  file(key: string, env: string, file: string, mustContain?: RegExp, what?: string): Buffer | undefined {
    let content: Buffer;
    try {
      if (!statSync(file).isFile()) {
        this.problem(key, env, `${file} is not a file`);
        return undefined;
      }
      content = readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.problem(key, env, code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code})`);
      return undefined;
    }
    if (content.length === 0) {
      this.problem(key, env, `${file} is empty`);
      return undefined;
    }
    // Checks the PEM header only: the content itself is never quoted (it may be a key).
    if (mustContain && !mustContain.test(content.toString('latin1'))) {
      this.problem(key, env, `${file} holds no PEM ${what}`);
      return undefined;
    }
    return content;
  }

  /** A secret from its file (which wins, trailing newline dropped) or its variable. */
  secret(fileKey: string, fileEnv: string, file: string, value: string): string | undefined {
    if (file === '') return value;
    const content = this.file(fileKey, fileEnv, file);
    return content?.toString('utf8').replace(/\r?\n$/, '');
  }

  /** Throws a {@link ConfigError} with every problem found. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * kafkajs's `ssl` and `sasl` options from the Kafka security settings (`config` is `kafka.security`).
 * Reads the files now.
 * @throws ConfigError naming each setting that is missing, unreadable or inconsistent
 */
export function kafkaSecurityOptions(config: KafkaSecurityConfig): KafkaSecurityOptions {
  const read = new SettingReader('kafka.security');
  const ca = config.tlsCaFile
    ? read.file('tlsCaFile', 'KAFKA_TLS_CA_FILE', config.tlsCaFile, PEM_CERTIFICATE, 'certificate')
    : undefined;
  const cert = config.tlsCertFile
    ? read.file('tlsCertFile', 'KAFKA_TLS_CERT_FILE', config.tlsCertFile, PEM_CERTIFICATE, 'certificate')
    : undefined;
  const key = config.tlsKeyFile
    ? read.file('tlsKeyFile', 'KAFKA_TLS_KEY_FILE', config.tlsKeyFile, PEM_PRIVATE_KEY, 'private key')
    : undefined;
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) {
    const [key, env] = config.tlsCertFile
      ? ['tlsKeyFile', 'KAFKA_TLS_KEY_FILE']
      : ['tlsCertFile', 'KAFKA_TLS_CERT_FILE'];
    read.problem(
      key,
      env,
      'set both the client certificate and its key (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE), or neither',
    );
  }
  const tls = config.tls || Boolean(config.tlsCaFile || config.tlsCertFile || config.tlsKeyFile);
  if (config.tlsServerName && !tls) {
    read.problem('tlsServerName', 'KAFKA_TLS_SERVER_NAME', 'is a TLS setting: set KAFKA_TLS=true too');
  }

  let sasl: KafkaSecurityOptions['sasl'];
  const password = read.secret(
    'saslPasswordFile',
    'KAFKA_SASL_PASSWORD_FILE',
    config.saslPasswordFile,
    config.saslPassword,
  );
  if (config.saslMechanism === 'none') {
    if (config.saslUsername || config.saslPassword || config.saslPasswordFile) {
      read.problem(
        'saslMechanism',
        'KAFKA_SASL_MECHANISM',
        "is 'none' but a SASL user or password is set: set the mechanism (plain, scram-sha-256, scram-sha-512)",
      );
    }
  } else {
    if (!config.saslUsername) {
      read.problem(
        'saslUsername',
        'KAFKA_SASL_USERNAME',
        `must be set for KAFKA_SASL_MECHANISM=${config.saslMechanism}`,
      );
    }
    if (password === '') {
      const [key, env] = config.saslPasswordFile
        ? ['saslPasswordFile', 'KAFKA_SASL_PASSWORD_FILE']
        : ['saslPassword', 'KAFKA_SASL_PASSWORD'];
      read.problem(
        key,
        env,
        config.saslPasswordFile
          ? `${config.saslPasswordFile} is empty`
          : `KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE must be set for KAFKA_SASL_MECHANISM=${config.saslMechanism}`,
      );
    }
    if (password !== undefined) {
      sasl = { mechanism: config.saslMechanism, username: config.saslUsername, password };
    }
  }
  read.done();

  const ssl: KafkaSecurityOptions['ssl'] =
    ca || cert || config.tlsServerName
      ? {
          ...(ca ? { ca } : {}),
          ...(cert && key ? { cert, key } : {}),
          ...(config.tlsServerName ? { servername: config.tlsServerName } : {}),
        }
      : tls
        ? true
        : undefined;
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

/** The Temporal connection settings about TLS and authentication. */
export interface TemporalSecurityConfig {
  tls: boolean;
  tlsCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsServerName: string;
  apiKey: string;
  apiKeyFile: string;
}

export function temporalSecuritySchema(): Schema<TemporalSecurityConfig> {
  return {
    tls: {
      doc: 'Connect to Temporal over TLS (implied when any TEMPORAL_TLS_* file is set, or an API key).',
      format: 'strict-boolean',
      default: false,
      env: 'TEMPORAL_TLS',
    },
    tlsCaFile: {
      doc: 'PEM CA to verify the Temporal frontend; empty: the system CAs.',
      format: String,
      default: '',
      env: 'TEMPORAL_TLS_CA_FILE',
    },
    tlsCertFile: {
      doc: 'PEM client certificate (mTLS, Temporal Cloud); set with TEMPORAL_TLS_KEY_FILE.',
      format: String,
      default: '',
      env: 'TEMPORAL_TLS_CERT_FILE',
    },
    tlsKeyFile: {
      doc: 'PEM private key of the client certificate; set with TEMPORAL_TLS_CERT_FILE.',
      format: String,
      default: '',
      env: 'TEMPORAL_TLS_KEY_FILE',
    },
    tlsServerName: {
      doc: 'Name to verify the server certificate against when it differs from the address; empty: the address.',
      format: String,
      default: '',
      env: 'TEMPORAL_TLS_SERVER_NAME',
    },
    apiKey: {
      doc: 'Temporal Cloud API key (empty: none); TEMPORAL_API_KEY_FILE wins.',
      format: String,
      default: '',
      env: 'TEMPORAL_API_KEY',
      sensitive: true,
    },
    apiKeyFile: {
      doc: 'File holding the Temporal Cloud API key (a mounted Secret); wins over TEMPORAL_API_KEY.',
      format: String,
      default: '',
      env: 'TEMPORAL_API_KEY_FILE',
    },
  };
}

/** The Temporal SDK's `tls` and `apiKey` connection options, structurally. */
export interface TemporalSecurityOptions {
  tls?:
    | true
    | {
        serverRootCACertificate?: Buffer;
        clientCertPair?: { crt: Buffer; key: Buffer };
        serverNameOverride?: string;
      };
  apiKey?: string;
}

/**
 * The Temporal SDK's `tls` and `apiKey` options from the settings (`config` is `temporal`). Reads the
 * files now. Without TLS settings and key, plaintext (the local dev server, a local proxy).
 * @throws ConfigError naming each setting that is missing, unreadable or inconsistent
 */
export function temporalSecurityOptions(config: TemporalSecurityConfig): TemporalSecurityOptions {
  const read = new SettingReader('temporal');
  const ca = config.tlsCaFile
    ? read.file('tlsCaFile', 'TEMPORAL_TLS_CA_FILE', config.tlsCaFile, PEM_CERTIFICATE, 'certificate')
    : undefined;
  const crt = config.tlsCertFile
    ? read.file('tlsCertFile', 'TEMPORAL_TLS_CERT_FILE', config.tlsCertFile, PEM_CERTIFICATE, 'certificate')
    : undefined;
  const key = config.tlsKeyFile
    ? read.file('tlsKeyFile', 'TEMPORAL_TLS_KEY_FILE', config.tlsKeyFile, PEM_PRIVATE_KEY, 'private key')
    : undefined;
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) {
    const [name, env] = config.tlsCertFile
      ? ['tlsKeyFile', 'TEMPORAL_TLS_KEY_FILE']
      : ['tlsCertFile', 'TEMPORAL_TLS_CERT_FILE'];
    read.problem(
      name,
      env,
      'set both the client certificate and its key (TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE), or neither',
    );
  }
  const apiKey = read.secret('apiKeyFile', 'TEMPORAL_API_KEY_FILE', config.apiKeyFile, config.apiKey);
  if (config.apiKeyFile && apiKey === '')
    read.problem('apiKeyFile', 'TEMPORAL_API_KEY_FILE', `${config.apiKeyFile} is empty`);
  const tls = config.tls || Boolean(config.tlsCaFile || config.tlsCertFile || config.tlsKeyFile);
  if (config.tlsServerName && !tls) {
    read.problem('tlsServerName', 'TEMPORAL_TLS_SERVER_NAME', 'is a TLS setting: set TEMPORAL_TLS=true too');
  }
  read.done();

  const tlsOptions: TemporalSecurityOptions['tls'] =
    ca || crt || config.tlsServerName
      ? {
          ...(ca ? { serverRootCACertificate: ca } : {}),
          ...(crt && key ? { clientCertPair: { crt, key } } : {}),
          ...(config.tlsServerName ? { serverNameOverride: config.tlsServerName } : {}),
        }
      : tls
        ? true
        : undefined;
  // The SDK turns TLS on for an API key itself (Temporal Cloud); a key over plaintext (a local proxy
  // that adds TLS) needs `tls: false` said explicitly, which TEMPORAL_TLS=false cannot tell apart.
  return { ...(tlsOptions ? { tls: tlsOptions } : {}), ...(apiKey ? { apiKey } : {}) };
}

/**
 * Checks the secured-connection parts a loaded configuration has (`kafka.security`, `temporal`),
 * reading their files, so that a missing file or an incomplete pair stops the process at start.
 * @throws ConfigError naming every problem of both parts
 */
export function checkSecuredConnections(config: unknown): void {
  const problems: ConfigProblem[] = [];
  const collect = (check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  };
  const parts = config as {
    kafka?: { security?: KafkaSecurityConfig };
    temporal?: Partial<TemporalSecurityConfig>;
  };
  const kafka = parts.kafka?.security;
  if (kafka) collect(() => kafkaSecurityOptions(kafka));
  const temporal = parts.temporal;
  if (temporal && typeof temporal.tlsCaFile === 'string') {
    collect(() => temporalSecurityOptions(temporal as TemporalSecurityConfig));
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
