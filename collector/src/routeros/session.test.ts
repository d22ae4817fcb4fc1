import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedRouter, sentence, startScriptedRouter } from '../../tests/scripted-router';
import { DeviceTrapError, RouterSession, SessionError } from './session';

let router: ScriptedRouter;
let closedPort = 0;
const opts = { connectTimeoutMs: 2000, commandTimeoutMs: 500 };

beforeAll(async () => {
  router = await startScriptedRouter();
  router.password = 'right';
  router.script = (tag, command) => {
    if (command === '/system/identity/print')
      return [sentence(['!re', '=name=rtr-01', `.tag=${tag}`]), sentence(['!done', `.tag=${tag}`])];
    if (command === '/hang/print') return 'hang';
    return [
      sentence(['!trap', '=category=0', '=message=no such command or directory (bogus)', `.tag=${tag}`]),
      sentence(['!done', `.tag=${tag}`]),
    ];
  };
  // A port with nothing listening: bind, note it, close.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => router.close());

const target = (over: Partial<Parameters<typeof RouterSession.open>[0]> = {}) => ({
  host: '127.0.0.1',
  port: router.port,
  tlsPort: closedPort,
  tlsMode: 'any' as const,
  username: 'admin',
  password: 'right',
  ...over,
});

describe('router session', () => {
  it('falls back through the TLS tiers to the plain API when the policy allows it', async () => {
    const session = await RouterSession.open(target(), opts);
    expect(session.tier).toBe('plain');
    await expect(session.run('/system/identity/print')).resolves.toEqual([{ name: 'rtr-01' }]);
    session.close();
  });

  it('refuses the plain API when the policy demands TLS', async () => {
    const err = await RouterSession.open(target({ tlsMode: 'strict' }), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).status).toBe('unreachable');
  });

  it('reports a wrong password as auth_failed, distinct from unreachable', async () => {
    const err = await RouterSession.open(target({ password: 'wrong' }), opts).catch((e: unknown) => e);
    expect((err as SessionError).status).toBe('auth_failed');
    const down = await RouterSession.open(target({ port: closedPort }), opts).catch((e: unknown) => e);
    expect((down as SessionError).status).toBe('unreachable');
  });

  it("returns the device's own error text for a trapped command and keeps the session", async () => {
    const session = await RouterSession.open(target(), opts);
    const err = await session.run('/bogus/print').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceTrapError);
    expect((err as Error).message).toBe('no such command or directory (bogus)');
    expect(session.isOpen).toBe(true);
    await expect(session.run('/system/identity/print')).resolves.toHaveLength(1);
    session.close();
  });

  it('runs many commands at once on one session', async () => {
    const session = await RouterSession.open(target(), opts);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => session.run('/system/identity/print')),
    );
    expect(results.every((r) => r[0]?.name === 'rtr-01')).toBe(true);
    session.close();
  });

  it('gives up on a command that never answers and closes the session, failing its other commands too', async () => {
    const session = await RouterSession.open(target(), opts);
    const hung = session.run('/hang/print').catch((e: unknown) => e);
    const other = session.run('/hang/print').catch((e: unknown) => e);
    const [a, b] = await Promise.all([hung, other]);
    expect((a as SessionError).status).toBe('unreachable');
    expect((a as Error).message).toMatch(/timed out after 500 ms/);
    expect(b).toBeInstanceOf(SessionError);
    expect(session.isOpen).toBe(false);
    await expect(session.run('/system/identity/print')).rejects.toThrow(/session is closed/);
  });
});
