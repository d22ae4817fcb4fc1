// The Worker's bindings (wrangler.toml vars, secrets and Durable Objects) and the Hono context types.
import type { EdgeConfig } from './config';

export interface Bindings {
  ENVIRONMENT?: string;
  APP_VERSION?: string;
  DATABASE_URL?: string;
  NATS_WS_URL?: string;
  JWT_SECRET_KEY?: string;
  CREDENTIAL_ENCRYPTION_KEY?: string;
  FIRST_ADMIN_EMAIL?: string;
  FIRST_ADMIN_PASSWORD?: string;
  RATE_LIMITER: DurableObjectNamespace;
}

export interface Variables {
  requestId: string;
  config: EdgeConfig;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };
