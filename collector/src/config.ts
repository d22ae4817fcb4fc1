// The collector's configuration: one zod-validated object from the environment, defaults in one place.
import { parseBackupWindow } from '@tod/contracts';
import { z } from 'zod';

const seconds = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const CollectorEnv = z.object({
  TOD_COLLECTOR_STATE_DIR: z.string().min(1).default('/var/lib/tod-collector'),
  /** Overrides the NATS URL received at enrolment (e.g. through a local WireGuard address). */
  NATS_URL: z
    .string()
    .regex(/^(nats|tls):\/\/.+/, 'must be a nats:// or tls:// URL')
    .optional(),
  /** PEM file of the CA(s) that sign device certificates, trusted for the verified tier besides Node's roots. */
  TLS_CA_FILE: z.string().min(1).optional(),
  POLL_INTERVAL_S: seconds(60, 10, 3600),
  CONNECT_TIMEOUT_S: seconds(10, 1, 120),
  COMMAND_TIMEOUT_S: seconds(30, 1, 600),
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  BREAKER_BASE_S: seconds(30, 1, 3600),
  BREAKER_MAX_S: seconds(900, 1, 86_400),
  MAX_CONCURRENT_POLLS: z.coerce.number().int().min(1).max(10_000).default(512),
  /** HA lease TTL; default max(1.5 × POLL_INTERVAL_S, CONNECT_TIMEOUT_S + COMMAND_TIMEOUT_S + 5), see leaseTiming. */
  LEASE_TTL_S: z.coerce.number().int().min(5).max(7200).optional(),
  /** How often a standby collector retries a device a peer holds; default POLL_INTERVAL_S / 4. */
  LEASE_RETRY_S: z.coerce.number().int().min(1).max(3600).optional(),
  OUTBOX_MAX_MB: z.coerce.number().int().min(1).max(100_000).default(256),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Nightly configuration backups (1) or only on change and at first sight (0). */
  BACKUP_NIGHTLY: z.enum(['0', '1']).default('1'),
  /** Local time window (of the collector's clock) the nightly backups are spread over, per device. */
  BACKUP_WINDOW: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must look like 02:00-05:00')
    .refine((w) => w.slice(0, 5) !== w.slice(6), 'must not be empty')
    .default('02:00-05:00'),
  /** Export passwords and keys, where the device's registry entry sets no tenant policy (`backup.showSensitive`). */
  BACKUP_SHOW_SENSITIVE: z.enum(['0', '1', 'false', 'true']).default('0'),
  /** The first backup of each device after the collector starts falls at a random point in this many seconds. */
  BACKUP_STARTUP_SPREAD_S: seconds(600, 0, 86_400),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type CollectorConfig = z.infer<typeof CollectorEnv>;

export class CollectorConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable} ${detail}`);
  }
}

export function loadCollectorConfig(env: Record<string, string | undefined>): CollectorConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = CollectorEnv.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CollectorConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return parsed.data;
}

/** Lease timing for shared devices. The TTL outlives one interval plus lateness (the holder renews on every poll)
 * and the longest poll (connect + command timeouts), so a live holder never loses its lease mid-poll; a standby
 * retries every quarter interval, so a dead holder's devices move within TTL + retry (1.75 intervals by default). */
export function leaseTiming(c: CollectorConfig): { ttlMs: number; retryMs: number } {
  const ttlS =
    c.LEASE_TTL_S ??
    Math.max(Math.ceil(c.POLL_INTERVAL_S * 1.5), c.CONNECT_TIMEOUT_S + c.COMMAND_TIMEOUT_S + 5);
  const retryS = c.LEASE_RETRY_S ?? c.POLL_INTERVAL_S / 4;
  return { ttlMs: ttlS * 1000, retryMs: Math.round(retryS * 1000) };
}

/** BACKUP_WINDOW as minutes after local midnight; an end before the start wraps past midnight. */
export function backupWindow(c: CollectorConfig): { startMin: number; endMin: number } {
  return parseBackupWindow(c.BACKUP_WINDOW);
}
