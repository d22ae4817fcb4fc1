// Proves the node-routeros patch (patches/node-routeros+1.6.9.patch) over real loopback TCP against a scripted
// router: sentences split at any byte, RouterOS 7.18+ `!empty`, and hostile framing never escape the session.
import { createServer, type Server, type Socket } from 'node:net';
import { RouterOSAPI } from 'node-routeros';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x4000) return Buffer.from([(n >> 8) | 0x80, n & 0xff]);
  if (n < 0x200000) return Buffer.from([(n >> 16) | 0xc0, (n >> 8) & 0xff, n & 0xff]);
  if (n < 0x10000000) return Buffer.from([(n >>> 24) | 0xe0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xf0;
  b.writeUInt32BE(n, 1);
  return b;
}

function sentence(words: string[]): Buffer {
  return Buffer.concat([
    ...words.flatMap((w) => [encodeLength(Buffer.byteLength(w)), Buffer.from(w)]),
    Buffer.from([0]),
  ]);
}

/** Reads client sentences from a socket (enough for this scripted router). */
function onSentences(socket: Socket, handler: (words: string[]) => void): void {
  let buf = Buffer.alloc(0);
  let words: string[] = [];
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length === 0) return;
      const b = buf[0]!;
      const size = b < 0x80 ? 1 : b < 0xc0 ? 2 : b < 0xe0 ? 3 : b < 0xf0 ? 4 : 5;
      if (buf.length < size) return;
      let len = b;
      if (size === 2) len = ((b & 0x3f) << 8) | buf[1]!;
      if (size === 3) len = ((b & 0x1f) << 16) | (buf[1]! << 8) | buf[2]!;
      if (size > 3) return; // not needed by this router
      if (buf.length < size + len) return;
      const word = buf.subarray(size, size + len).toString('latin1');
      buf = buf.subarray(size + len);
      if (len === 0) {
        handler(words);
        words = [];
      } else words.push(word);
    }
  });
}

type Script = (tag: string, command: string) => Buffer[];
let script: Script = () => [];
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    socket.setNoDelay(true);
    onSentences(socket, (words) => {
      const tag = words.find((w) => w.startsWith('.tag='))?.slice(5) ?? '';
      const command = words[0] ?? '';
      const chunks = command === '/login' ? [sentence(['!done', `.tag=${tag}`])] : script(tag, command);
      // Each chunk is its own write, a few ms apart, so the client sees separate TCP reads.
      chunks.forEach((c, i) => setTimeout(() => socket.writable && socket.write(c), i * 15));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function session(): Promise<RouterOSAPI> {
  const api = new RouterOSAPI({ host: '127.0.0.1', port, user: 'admin', password: 'x', timeout: 5 });
  api.on('error', () => {});
  await api.connect();
  return api;
}

/** Splits a buffer at the given byte offsets. */
function splitAt(buf: Buffer, ...offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of offsets) {
    out.push(buf.subarray(prev, o));
    prev = o;
  }
  out.push(buf.subarray(prev));
  return out;
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
