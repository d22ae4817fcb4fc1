import { createAccount, createUser } from '@nats-io/nkeys';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const good = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgres://tod_app:pw@db.internal:5432/tod',
  NATS_WS_URL: 'wss://nats.internal:443',
  JWT_SECRET_KEY: 'tZ3m9Qv1Lr8Xw2Kc5Hn7Bp4Yd6Fs0Gj1Ue3Ai8Oq2Wx5',
  CREDENTIAL_ENCRYPTION_KEY: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=',
};

function errorOf(env: Record<string, unknown>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('edge configuration', () => {
  it('accepts a sound production configuration', () => {
    expect(loadConfig(good).ENVIRONMENT).toBe('production');
  });

  it('defaults to production, so dev leniency is never implicit', () => {
    const { ENVIRONMENT: _, ...rest } = good;
    expect(loadConfig(rest).ENVIRONMENT).toBe('production');
  });

  it('names a missing variable', () => {
    const { DATABASE_URL: _, ...rest } = good;
    expect(errorOf(rest).message).toBe('DATABASE_URL is required');
  });

  it.each([
    ['JWT_SECRET_KEY', 'changeme'],
    ['JWT_SECRET_KEY', 'x'.repeat(40)],
    ['CREDENTIAL_ENCRYPTION_KEY', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
  ])('refuses the insecure %s outside development', (variable, value) => {
    const err = errorOf({ ...good, [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).not.toContain(value);
  });

  it('takes NATS JWT auth keys only as a pair, and never echoes the seed', () => {
    const account = createAccount();
    const pair = {
      NATS_ACCOUNT_PUBLIC_KEY: account.getPublicKey(),
      NATS_ACCOUNT_SIGNING_SEED: new TextDecoder().decode(createAccount().getSeed()),
    };
    expect(loadConfig({ ...good, ...pair }).NATS_ACCOUNT_PUBLIC_KEY).toBe(pair.NATS_ACCOUNT_PUBLIC_KEY);
    expect(errorOf({ ...good, NATS_ACCOUNT_PUBLIC_KEY: pair.NATS_ACCOUNT_PUBLIC_KEY }).variable).toBe(
      'NATS_ACCOUNT_SIGNING_SEED',
    );
    const userSeed = new TextDecoder().decode(createUser().getSeed());
    const err = errorOf({ ...good, ...pair, NATS_ACCOUNT_SIGNING_SEED: userSeed });
    expect(err.variable).toBe('NATS_ACCOUNT_SIGNING_SEED');
    expect(err.message).not.toContain(userSeed);
  });

  it('allows the insecure development defaults in development only', () => {
    const dev = { ...good, ENVIRONMENT: 'development', JWT_SECRET_KEY: 'x'.repeat(40) };
    expect(loadConfig(dev).JWT_SECRET_KEY).toHaveLength(40);
  });

  it('rejects a credential key that is not 32 bytes', () => {
    expect(errorOf({ ...good, CREDENTIAL_ENCRYPTION_KEY: btoa('short') }).variable).toBe(
      'CREDENTIAL_ENCRYPTION_KEY',
    );
  });
});
