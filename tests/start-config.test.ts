// Bad configuration stops `npm start` with one clear line naming the variable, never a stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dataDirs: string[] = [];
afterAll(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

function start(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'tod-start-'));
  dataDirs.push(dataDir);
  const res = spawnSync(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TOD_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, stderr: res.stderr.trim(), stdout: res.stdout };
}

function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.trim() && !/npm warn/i.test(l));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('npm start refuses bad configuration', () => {
  it('names DATABASE_URL when not embedded and none is given', () => {
    const res = start({
      TOD_EMBEDDED: 'false',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_WS_URL: 'ws://127.0.0.1:1',
    });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: DATABASE_URL is required when TOD_EMBEDDED=false$/);
  });

  it('names NATS_URL when NATS is unreachable', () => {
    const res = start({ NATS_URL: 'nats://127.0.0.1:1', NATS_WS_URL: 'ws://127.0.0.1:1' });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: NATS_URL cannot reach NATS at 127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
  });

  it('names a malformed secret without echoing it', () => {
    const res = start({ CREDENTIAL_ENCRYPTION_KEY: 'not-base64-32-bytes' });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: CREDENTIAL_ENCRYPTION_KEY must be 32 random bytes in base64/);
    expect(res.stderr).not.toContain('not-base64-32-bytes');
  });

  it('refuses a known-insecure secret outside development', () => {
    const res = start({
      ENVIRONMENT: 'production',
      JWT_SECRET_KEY: 'dev-secret-do-not-use-in-production-000000000000',
    });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: JWT_SECRET_KEY is a known-insecure value/);
  });

  it('names a malformed URL', () => {
    const res = start({ DATABASE_URL: 'mysql://nope' });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: DATABASE_URL must be a postgres:\/\/ URL/);
  });

  it('names a bad TOD_DEMO switch', () => {
    const res = start({ TOD_DEMO: 'maybe' });
    expect(res.status).toBe(1);
    expectOneLine(res.stderr, /^TOD: TOD_DEMO must be 1 or 0$/);
  });

  it('names a NATS account key given without its signing seed', () => {
    const res = start({
      NATS_URL: 'nats://127.0.0.1:1',
      NATS_WS_URL: 'ws://127.0.0.1:1',
      NATS_ACCOUNT_PUBLIC_KEY: `A${'B'.repeat(55)}`,
    });
    expect(res.status).toBe(1);
    expectOneLine(
      res.stderr,
      /^TOD: NATS_ACCOUNT_SIGNING_SEED is required with the other NATS_ACCOUNT_\* variable/,
    );
  });
});
