// The edge Worker: the Hono app and the Durable Object classes wrangler.toml binds.
import { createApp } from './app';

export { BatchRunner } from './hubs/batch-runner';
export { RateLimiter } from './hubs/rate-limiter';
export { TenantHub } from './hubs/tenant-hub';

export default createApp();
