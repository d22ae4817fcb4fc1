import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const good = {
  ENVIRONMENT: 'production',
  DATABASE_URL: 'postgres://tod_app:pw@db.internal:5432/tod',
  NATS_WS_URL: 'wss://nats.internal:443',
  JWT_SECRET_KEY: 'tZ3m9Qv1Lr8Xw2Kc5Hn7Bp4Yd6Fs0Gj1Ue3Ai8Oq2Wx5',
  CREDENTIAL_ENCRYPTION_KEY: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=',
};

describe('edge configuration: KMS, CORS, collector NATS URL', () => {
  it('defaults to the local KMS and no CORS origins', () => {
    const cfg = loadConfig(good);
    expect(cfg.KMS_BACKEND).toBe('local');
    expect(cfg.CORS_ORIGINS).toBe('');
    expect(cfg.NATS_URL).toBeUndefined();
  });

  it('requires the Transit address and token with KMS_BACKEND=transit', () => {
    expect(() => loadConfig({ ...good, KMS_BACKEND: 'transit' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...good, KMS_BACKEND: 'transit', TRANSIT_ADDR: 'https://bao:8200' })).toThrow(
      /TRANSIT_TOKEN/,
    );
    const cfg = loadConfig({
      ...good,
      KMS_BACKEND: 'transit',
      TRANSIT_ADDR: 'https://bao:8200',
      TRANSIT_TOKEN: 't',
    });
    expect(cfg.TRANSIT_MOUNT).toBe('transit');
    expect(cfg.TRANSIT_KEY_PREFIX).toBe('tod-tenant-');
  });

  it('refuses an unknown KMS and a NATS_URL that is not nats://', () => {
    expect(() => loadConfig({ ...good, KMS_BACKEND: 'vault' })).toThrow(/KMS_BACKEND/);
    expect(() => loadConfig({ ...good, NATS_URL: 'http://nats:4222' })).toThrow(/NATS_URL/);
    expect(loadConfig({ ...good, NATS_URL: 'nats://nats:4222' }).NATS_URL).toBe('nats://nats:4222');
  });
});
