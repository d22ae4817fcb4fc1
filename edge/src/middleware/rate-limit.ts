// Auth endpoints: 5 requests per minute per client IP, counted in the RateLimiter Durable Object so the
// budget holds across every isolate. Over budget: 429 with Retry-After.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { clientIp } from '../services/audit';

export const AUTH_LIMIT_PER_MINUTE = 5;

export const authRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const ip = clientIp(c) ?? 'unknown';
  const stub = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(`auth:${ip}`));
  const decision = await stub.hit(AUTH_LIMIT_PER_MINUTE, 60_000);
  if (!decision.allowed) {
    c.header('Retry-After', String(decision.retryAfterSeconds));
    throw new ApiError(429, 'rate_limited', 'too many attempts; try again later');
  }
  await next();
});
