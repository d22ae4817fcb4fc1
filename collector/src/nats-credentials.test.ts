import { describe, expect, it } from 'vitest';
import { jwtTimes, renewAt } from './nats-credentials';

const jwtWith = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"typ":"JWT","alg":"ed25519-nkey"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('NATS credential renewal timing', () => {
  it('renews at half the JWT life', () => {
    const jwt = jwtWith({ iat: 1_000, exp: 87_400 });
    expect(jwtTimes(jwt)).toEqual({ iat: 1_000, exp: 87_400 });
    expect(renewAt(jwt)).toBe(44_200_000);
  });

  it('never renews a JWT without expiry', () => {
    expect(renewAt(jwtWith({ iat: 1_000 }))).toBeNull();
  });
});
