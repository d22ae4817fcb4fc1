// The edge's configuration: one zod-validated object built from the Worker env (and, in `npm start`, from
// the process env before wrangler starts, so bad configuration stops startup with one clear line).
import { z } from 'zod';

export const Environment = z.enum(['development', 'test', 'production']);

// Values that appear in docs, examples and our own dev defaults: never acceptable outside development.
const KNOWN_INSECURE = new Set([
  'changeme',
  'change-me',
  'secret',
  'password',
  'jwt-secret',
  'your-secret-key',
  'dev-secret-do-not-use-in-production-000000000000',
  'tod-dev-jwt-secret-not-for-production-use-0000000',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
]);

function parsesAsUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

const postgresUrl = z
  .string({ error: 'is required' })
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/[^/]+/.test(v) && parsesAsUrl(v), 'must be a postgres:// URL');

const wsUrl = z
  .string({ error: 'is required' })
  .trim()
  .refine((v) => /^wss?:\/\//.test(v) && parsesAsUrl(v), 'must be a ws:// or wss:// URL (NATS websocket)');

const base64Key32 = z
  .string({ error: 'is required' })
  .trim()
  .refine((v) => {
    try {
      return atob(v).length === 32;
    } catch {
      return false;
    }
  }, 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');

export const EdgeEnv = z.object({
  ENVIRONMENT: Environment.default('production'),
  APP_VERSION: z.string().default('0.0.0-dev'),
  DATABASE_URL: postgresUrl,
  NATS_WS_URL: wsUrl,
  JWT_SECRET_KEY: z
    .string({ error: 'is required' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)'),
  CREDENTIAL_ENCRYPTION_KEY: base64Key32,
  FIRST_ADMIN_EMAIL: z.email('must be an email address').toLowerCase().optional(),
  FIRST_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  /** The nats:// URL collectors are given at enrolment (they connect over TCP); NATS_WS_URL when unset. */
  NATS_URL: z
    .string()
    .trim()
    .refine((v) => /^(nats|tls):\/\//.test(v) && parsesAsUrl(v), 'must be a nats:// or tls:// URL')
    .optional(),
  /** NATS JWT auth (operator mode): the TOD account's public key (A…) and the seed of one of its signing keys
   * (SA…), with which the edge issues collectors' and its own NATS credentials. Both or neither (no auth). */
  NATS_ACCOUNT_PUBLIC_KEY: z
    .string()
    .trim()
    .regex(/^A[A-Z2-7]{55}$/, 'must be a NATS account public key (56 characters starting with A)')
    .optional(),
  NATS_ACCOUNT_SIGNING_SEED: z
    .string()
    .trim()
    .regex(/^SA[A-Z2-7]{56}$/, 'must be a NATS account nkey seed (58 characters starting with SA)')
    .optional(),
  /** Lifetime of a collector's NATS user JWT; the collector renews it at half-life, a revoked one cannot. */
  NATS_COLLECTOR_JWT_TTL_S: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(60, 'must be at least 60 seconds')
    .max(31_536_000, 'must be at most a year')
    .default(86_400),
  /** Comma-separated origins allowed by CORS (none by default: web reaches the edge through a binding). */
  CORS_ORIGINS: z.string().default(''),
  /** Which KMS wraps the per-tenant data keys: `local` (CREDENTIAL_ENCRYPTION_KEY) or OpenBao/Vault `transit`. */
  KMS_BACKEND: z.enum(['local', 'transit']).default('local'),
  TRANSIT_ADDR: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && parsesAsUrl(v), 'must be an http(s):// URL')
    .optional(),
  TRANSIT_TOKEN: z.string().min(1).optional(),
  TRANSIT_MOUNT: z
    .string()
    .regex(/^[\w/-]+$/)
    .default('transit'),
  TRANSIT_KEY_PREFIX: z
    .string()
    .regex(/^[\w-]*$/)
    .default('tod-tenant-'),
  /** Days of raw samples (and the event ledger) kept; older daily partitions are dropped. */
  METRICS_RETENTION_DAYS: z.coerce.number().int().min(2).max(3650).default(90),
  /** Days of hourly rollups kept (5-minute rollups follow METRICS_RETENTION_DAYS). */
  METRICS_ROLLUP_RETENTION_DAYS: z.coerce.number().int().min(2).max(3650).default(730),
  /** A device its collector has reported nothing about for this long is marked `offline` by the tenant's hub
   * (3 of the 60 s poll intervals the edge registers); its collector too, when none of its devices reports. */
  DEVICE_OFFLINE_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(180),
  /** Seconds between SSE heartbeat comments. */
  SSE_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
});
export type EdgeConfig = z.infer<typeof EdgeEnv>;

export class ConfigError extends Error {
  readonly code = 'misconfigured';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable} ${detail}`);
  }
}

function isLowEntropy(secret: string): boolean {
  return new Set(secret).size < 8;
}

/** Validates the env; throws ConfigError naming the first bad variable. Never echoes a secret's value. */
export function loadConfig(env: Record<string, unknown>): EdgeConfig {
  const parsed = EdgeEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const present = env[variable] !== undefined && env[variable] !== '';
    throw new ConfigError(variable, present ? issue.message : 'is required');
  }
  const cfg = parsed.data;
  if (cfg.KMS_BACKEND === 'transit') {
    if (!cfg.TRANSIT_ADDR) throw new ConfigError('TRANSIT_ADDR', 'is required when KMS_BACKEND=transit');
    if (!cfg.TRANSIT_TOKEN) throw new ConfigError('TRANSIT_TOKEN', 'is required when KMS_BACKEND=transit');
  }
  if (!cfg.NATS_ACCOUNT_PUBLIC_KEY !== !cfg.NATS_ACCOUNT_SIGNING_SEED) {
    const missing = cfg.NATS_ACCOUNT_PUBLIC_KEY ? 'NATS_ACCOUNT_SIGNING_SEED' : 'NATS_ACCOUNT_PUBLIC_KEY';
    throw new ConfigError(missing, 'is required with the other NATS_ACCOUNT_* variable (NATS JWT auth)');
  }
  if (cfg.ENVIRONMENT !== 'development') {
    for (const name of ['JWT_SECRET_KEY', 'CREDENTIAL_ENCRYPTION_KEY'] as const) {
      const value = cfg[name];
      if (KNOWN_INSECURE.has(value) || isLowEntropy(value) || /^(dev|test)[-_]/i.test(value)) {
        throw new ConfigError(
          name,
          `is a known-insecure value; generate a random one (ENVIRONMENT=${cfg.ENVIRONMENT})`,
        );
      }
    }
    if (
      atob(cfg.CREDENTIAL_ENCRYPTION_KEY)
        .split('')
        .every((c) => c === '\0')
    ) {
      throw new ConfigError('CREDENTIAL_ENCRYPTION_KEY', 'is all zero bytes; generate a random key');
    }
    if (cfg.FIRST_ADMIN_PASSWORD && KNOWN_INSECURE.has(cfg.FIRST_ADMIN_PASSWORD)) {
      throw new ConfigError('FIRST_ADMIN_PASSWORD', 'is a known-insecure value');
    }
  }
  if (cfg.METRICS_ROLLUP_RETENTION_DAYS < cfg.METRICS_RETENTION_DAYS) {
    throw new ConfigError('METRICS_ROLLUP_RETENTION_DAYS', 'must be at least METRICS_RETENTION_DAYS');
  }
  return cfg;
}
