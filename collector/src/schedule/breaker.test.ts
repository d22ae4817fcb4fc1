import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker';

describe('circuit breaker', () => {
  it('stays closed below the threshold and opens at the fifth consecutive failure', () => {
    const b = new CircuitBreaker();
    for (let i = 0; i < 4; i++) b.recordFailure(0);
    expect(b.state(0)).toBe('closed');
    b.recordFailure(0);
    expect(b.state(0)).toBe('open');
    expect(b.allows(29_999)).toBe(false);
    expect(b.state(30_000)).toBe('half_open');
  });

  it('doubles the backoff after each failed trial, capped at 900 s', () => {
    const b = new CircuitBreaker();
    let now = 0;
    for (let i = 0; i < 5; i++) b.recordFailure(now);
    const waits: number[] = [];
    for (let trial = 0; trial < 8; trial++) {
      waits.push(b.retryAt - now);
      now = b.retryAt;
      b.recordFailure(now);
    }
    expect(waits).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
  });

  it('closes and forgets its backoff on the first success', () => {
    const b = new CircuitBreaker({ threshold: 2, baseMs: 1000, maxMs: 8000 });
    b.recordFailure(0);
    b.recordFailure(0);
    expect(b.allows(500)).toBe(false);
    b.recordSuccess();
    expect(b.state(500)).toBe('closed');
    b.recordFailure(600);
    b.recordFailure(600);
    expect(b.retryAt).toBe(1600);
  });
});
