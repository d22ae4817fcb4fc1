// A scripted RouterOS API peer on loopback TCP for client-side edge cases the simulator does not stage on
// purpose (hand-made byte streams). Router behaviour at large is tested against the simulator.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeSentence } from '../../simulator/src/wire/codec';

/** One sentence in wire form (the simulator's codec: one encoder for the whole repository). */
export function sentence(words: string[]): Buffer {
  return encodeSentence(words);
}

/** Splits a buffer at the given byte offsets. */
export function splitAt(buf: Buffer, ...offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of offsets) {
    out.push(buf.subarray(prev, o));
    prev = o;
  }
  out.push(buf.subarray(prev));
  return out;
}

function onSentences(socket: Socket, handler: (words: string[]) => void): void {
  let buf = Buffer.alloc(0);
  let words: string[] = [];
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length === 0) return;
      const b = buf[0]!;
      const size = b < 0x80 ? 1 : b < 0xc0 ? 2 : 3;
      if (buf.length < size) return;
      let len = b;
      if (size === 2) len = ((b & 0x3f) << 8) | buf[1]!;
      if (size === 3) len = ((b & 0x1f) << 16) | (buf[1]! << 8) | buf[2]!;
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

/** Answers: chunks to write (each its own write, 15 ms apart so the client sees separate reads), or
 * 'hang' to never answer. */
export type Script = (
  tag: string,
  command: string,
  words: string[],
  /** Which accepted connection (1, 2, ...) sent it. */
  connection?: number,
) => Buffer[] | 'hang';

export interface ScriptedRouter {
  port: number;
  script: Script;
  /** Accept logins only with this password (default: any). */
  password?: string;
  close(): Promise<void>;
}

export async function startScriptedRouter(): Promise<ScriptedRouter> {
  const router: ScriptedRouter = { port: 0, script: () => [], close: async () => {} };
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    onSentences(socket, (words) => {
      const tag = words.find((w) => w.startsWith('.tag='))?.slice(5) ?? '';
      const command = words[0] ?? '';
      let chunks: Buffer[] | 'hang';
      if (command === '/login') {
        const password = words.find((w) => w.startsWith('=password='))?.slice(10);
        chunks =
          router.password === undefined || password === router.password
            ? [sentence(['!done', `.tag=${tag}`])]
            : [
                Buffer.concat([
                  sentence(['!trap', '=message=invalid user name or password (6)', `.tag=${tag}`]),
                  sentence(['!done', `.tag=${tag}`]),
                ]),
              ];
      } else chunks = router.script(tag, command, words, connection);
      if (chunks === 'hang') return;
      chunks.forEach((c, i) => {
        setTimeout(() => socket.writable && socket.write(c), i * 15);
      });
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  router.port = (server.address() as { port: number }).port;
  router.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return router;
}
