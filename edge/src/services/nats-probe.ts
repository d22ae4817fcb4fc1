// Readiness probe for NATS over WebSocket (how the edge reaches NATS from workerd): open the websocket and
// wait for the server's INFO line.
import { connectEdge, type EdgeNats } from './nats-auth';

export async function probeNats(wsUrl: string, timeoutMs = 3000): Promise<void> {
  const httpUrl = wsUrl.replace(/^ws/, 'http');
  const res = await withTimeout(fetch(httpUrl, { headers: { Upgrade: 'websocket' } }), timeoutMs);
  const ws = res.webSocket;
  if (!ws) throw new Error(`no websocket upgrade (HTTP ${res.status})`);
  ws.accept();
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener('message', (ev) => {
          frameText(ev.data).then((text) => {
            if (text.startsWith('INFO ')) resolve();
            else reject(new Error('unexpected first frame from NATS'));
          }, reject);
        });
        ws.addEventListener('close', () => reject(new Error('NATS closed the websocket')));
        ws.addEventListener('error', (ev) =>
          reject(new Error(`websocket error: ${(ev as ErrorEvent).message ?? ''}`)),
        );
      }),
      timeoutMs,
    );
  } finally {
    ws.close(1000, 'probe done');
  }
}

/** With NATS auth, readiness also proves the edge's signing key works: log in with minted credentials and
 * round-trip a PING. */
export async function probeNatsLogin(nats: EdgeNats, timeoutMs = 3000): Promise<void> {
  const nc = await withTimeout(connectEdge(nats, 'tod-edge-probe'), timeoutMs);
  try {
    await withTimeout(nc.flush(), timeoutMs);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}

async function frameText(data: unknown): Promise<string> {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  if (data instanceof Blob) return data.text();
  throw new Error('unexpected websocket frame type');
}
