// Proves the node-routeros patch (patches/node-routeros+1.6.9.patch) over real loopback TCP against a scripted
// router: sentences split at any byte, RouterOS 7.18+ `!empty`, and hostile framing never escape the session.
import { createServer } from 'node:net';
import { RouterOSAPI } from 'node-routeros';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedRouter, sentence, splitAt, startScriptedRouter } from '../../tests/scripted-router';

let router: ScriptedRouter;
let port = 0;
let script: ScriptedRouter['script'] = () => [];

beforeAll(async () => {
  router = await startScriptedRouter();
  router.script = (tag, command, words) => script(tag, command, words);
  port = router.port;
});
afterAll(() => router.close());

async function session(): Promise<RouterOSAPI> {
  const api = new RouterOSAPI({ host: '127.0.0.1', port, user: 'admin', password: 'x', timeout: 5 });
  api.on('error', () => {});
  await api.connect();
  return api;
}

describe('patched node-routeros', { timeout: 10_000 }, () => {
  it('completes a reply whose final zero byte arrives in a separate TCP segment', async () => {
    script = (tag) => {
      const reply = Buffer.concat([
        sentence(['!re', '=name=ether1', `.tag=${tag}`]),
        sentence(['!done', `.tag=${tag}`]),
      ]);
      return splitAt(reply, reply.length - 1);
    };
    const api = await session();
    await expect(api.write('/interface/print')).resolves.toEqual([{ name: 'ether1' }]);
    await api.close();
  });

  it('completes replies split inside every length prefix and word', async () => {
    const long = 'x'.repeat(0x4000); // a 3-byte length prefix
    script = (tag) => {
      const reply = Buffer.concat([
        sentence(['!re', `=comment=${long}`, `.tag=${tag}`]),
        sentence(['!done', `.tag=${tag}`]),
      ]);
      return splitAt(reply, 1, 2, 4, 5, 100, 0x4000, reply.length - 3);
    };
    const api = await session();
    const rows = await api.write('/ip/address/print');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.comment).toHaveLength(0x4000);
    await api.close();
  });

  it('answers [] for the !empty reply of RouterOS 7.18+ instead of crashing', async () => {
    script = (tag) => [sentence(['!empty', `.tag=${tag}`]), sentence(['!done', `.tag=${tag}`])];
    const api = await session();
    await expect(api.write('/ip/firewall/filter/print')).resolves.toEqual([]);
    await api.close();
  });

  it('rejects a command answered with an unknown reply word, and the session goes on', async () => {
    script = (tag, command) =>
      command === '/bogus'
        ? [sentence(['!weird', `.tag=${tag}`])]
        : [sentence(['!re', '=name=r1', `.tag=${tag}`]), sentence(['!done', `.tag=${tag}`])];
    const api = await session();
    await expect(api.write('/bogus')).rejects.toThrow(/unknown reply: !weird/);
    await expect(api.write('/system/identity/print')).resolves.toEqual([{ name: 'r1' }]);
    await api.close();
  });

  it('drops replies for tags nobody waits for', async () => {
    script = (tag) => [
      sentence(['!re', '=x=1', '.tag=stale-tag']),
      sentence(['!done', '.tag=stale-tag']),
      sentence(['!done', `.tag=${tag}`]),
    ];
    const api = await session();
    await expect(api.write('/system/resource/print')).resolves.toEqual([]);
    await api.close();
  });

  it('keeps the socket error code and text instead of an empty RosException', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closed = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const api = new RouterOSAPI({ host: '127.0.0.1', port: closed, user: 'a', password: 'b', timeout: 5 });
    api.on('error', () => {});
    const err = (await api.connect().catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).not.toBe('');
  });

  it('ends only this session on a malformed length prefix, without an uncaught exception', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      script = () => [Buffer.from([0xf8, 0x01, 0x02, 0x03])];
      const api = await session();
      const errored = new Promise<Error>((resolve) => api.once('error', resolve));
      void api.write('/system/resource/print').catch(() => {});
      expect((await errored).message).toMatch(/malformed length prefix 0xf8/);
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
