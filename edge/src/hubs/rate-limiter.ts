// RateLimiter Durable Object: a fixed-budget sliding window per key (`auth-ip:<ip>`, `auth-account:<email>`),
// so auth attempts are limited across every isolate of the edge, not per isolate. One object per key.
import { DurableObject } from 'cloudflare:workers';

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

export class RateLimiter extends DurableObject {
  private hits: number[] = [];

  /** Records one attempt at `now` (ms) against `limit` per `windowMs`; refuses once the budget is spent. */
  async hit(limit: number, windowMs: number, now = Date.now()): Promise<RateLimitDecision> {
    const decision = this.decide(limit, windowMs, now);
    if (decision.allowed) {
      this.hits.push(now);
      decision.remaining = limit - this.hits.length;
    }
    return decision;
  }

  /** Whether the budget still allows an attempt, recording nothing (for budgets spent only by failures). */
  async check(limit: number, windowMs: number, now = Date.now()): Promise<RateLimitDecision> {
    return this.decide(limit, windowMs, now);
  }

  private decide(limit: number, windowMs: number, now: number): RateLimitDecision {
    this.hits = this.hits.filter((t) => t > now - windowMs);
    if (this.hits.length >= limit) {
      const oldest = this.hits[0] ?? now;
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
      };
    }
    return { allowed: true, remaining: limit - this.hits.length, retryAfterSeconds: 0 };
  }
}
