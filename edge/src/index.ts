// The edge Worker: the Hono app, the cron trigger and the Durable Object classes wrangler.toml binds.
import { createApp } from './app';
import { wakeTenantHubs } from './cron';
import type { Bindings } from './env';

export { BatchRunner } from './hubs/batch-runner';
export { RateLimiter } from './hubs/rate-limiter';
export { TenantHub } from './hubs/tenant-hub';

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(wakeTenantHubs(env));
  },
} satisfies ExportedHandler<Bindings>;
