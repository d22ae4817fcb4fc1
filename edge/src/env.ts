// The Worker's bindings (wrangler.toml vars, secrets and Durable Objects) and the Hono context types.
import type { Role } from '@tod/contracts';
import type { EdgeConfig } from './config';
import type { Db } from './db';
import type { BatchRunner } from './hubs/batch-runner';
import type { RateLimiter } from './hubs/rate-limiter';
import type { TenantHub } from './hubs/tenant-hub';

export interface Bindings {
  ENVIRONMENT?: string;
  APP_VERSION?: string;
  DATABASE_URL?: string;
  NATS_WS_URL?: string;
  JWT_SECRET_KEY?: string;
  CREDENTIAL_ENCRYPTION_KEY?: string;
  FIRST_ADMIN_EMAIL?: string;
  FIRST_ADMIN_PASSWORD?: string;
  NATS_URL?: string;
  NATS_ACCOUNT_PUBLIC_KEY?: string;
  NATS_ACCOUNT_SIGNING_SEED?: string;
  NATS_COLLECTOR_JWT_TTL_S?: string;
  CORS_ORIGINS?: string;
  KMS_BACKEND?: string;
  TRANSIT_ADDR?: string;
  TRANSIT_TOKEN?: string;
  TRANSIT_MOUNT?: string;
  TRANSIT_KEY_PREFIX?: string;
  METRICS_RETENTION_DAYS?: string;
  METRICS_ROLLUP_RETENTION_DAYS?: string;
  SSE_HEARTBEAT_SECONDS?: string;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  TENANT_HUB: DurableObjectNamespace<TenantHub>;
  BATCH_RUNNER: DurableObjectNamespace<BatchRunner>;
}

/** Who is calling: a logged-in user (JWT), an API key, or a collector enrolling itself. */
export interface Principal {
  kind: 'user' | 'api_key' | 'collector';
  /** user id or API key id */
  id: string;
  /** the user behind the call (the key's creator for API keys) */
  userId: string | null;
  tenantId: string | null;
  role: Role;
  /** refresh family of a user session */
  sessionId: string | null;
}

export interface Variables {
  requestId: string;
  config: EdgeConfig;
  openDb: () => Db;
  principal: Principal;
  /** The tenant this request acts in (tenant routes only). */
  tenantId: string;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };
