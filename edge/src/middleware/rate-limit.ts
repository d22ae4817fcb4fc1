// Auth endpoints, counted in the RateLimiter Durable Object so the budgets hold across every isolate:
// - per client IP, every request: AUTH_IP_LIMIT_PER_MINUTE (generous: an MSP office signs in from behind one
//   NAT);
// - per account (the email, or the user for re-enrolment), failed proofs only: AUTH_ACCOUNT_FAILURES_PER_MINUTE.
//   Once spent, the account's sign-in is refused for the rest of the window whatever the IP, and a proof
//   made with a handshake started earlier is refused too, so guessing is not faster from many addresses.
// Over budget: 429 rate_limited with Retry-After. Unknown emails have a budget like known ones (no oracle).
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { clientIp } from '../services/audit';

export const AUTH_IP_LIMIT_PER_MINUTE = 60;
export const AUTH_ACCOUNT_FAILURES_PER_MINUTE = 5;
const WINDOW_MS = 60_000;

function limiter(c: Context<AppEnv>, key: string) {
  return c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(key));
}

function refuse(c: Context<AppEnv>, retryAfterSeconds: number): never {
  c.header('Retry-After', String(retryAfterSeconds));
  throw new ApiError(429, 'rate_limited', 'too many attempts; try again later');
}

const accountKey = (account: string) => `auth-account:${account.trim().toLowerCase()}`;

export const authRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const ip = clientIp(c) ?? 'unknown';
  const decision = await limiter(c, `auth-ip:${ip}`).hit(AUTH_IP_LIMIT_PER_MINUTE, WINDOW_MS);
  if (!decision.allowed) refuse(c, decision.retryAfterSeconds);
  await next();
});

/** Refuses (429) when the account spent its budget of failures in the window. */
export async function refuseLockedAccount(c: Context<AppEnv>, account: string): Promise<void> {
  const decision = await limiter(c, accountKey(account)).check(AUTH_ACCOUNT_FAILURES_PER_MINUTE, WINDOW_MS);
  if (!decision.allowed) refuse(c, decision.retryAfterSeconds);
}

/** Counts one failed proof against the account. */
export async function accountFailed(c: Context<AppEnv>, account: string): Promise<void> {
  await limiter(c, accountKey(account)).hit(AUTH_ACCOUNT_FAILURES_PER_MINUTE, WINDOW_MS);
}
