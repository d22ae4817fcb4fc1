// Live pipeline benchmark against the real parts (nats-server, the edge Worker's TenantHub in workerd, an
// embedded Postgres): metric rows stored per second while the hub drains a backlog of interface samples,
// event-to-SSE latency at a steady 1,000 events/s, and fan-out from one publish to many SSE clients of one
// tenant. Writes bench/results/pipeline.json. Run with `npm run bench pipeline`.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, get, type IncomingMessage } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM, eventSubject } from '@tod/contracts';
import postgres from 'postgres';
import { unstable_startWorker } from 'wrangler';
import { startNats } from '../scripts/services/nats';
import { startTodDatabase } from '../scripts/services/postgres';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DB = 'tod_bench';
const DEVICES = 200;
const INTERFACES_PER_EVENT = 10;
const BACKLOG_EVENTS = 6_000; // 60,000 interface rows
const LATENCY_RATE = 1_000; // events/s
const LATENCY_SECONDS = 10;
const FANOUT_CLIENTS = 1_000;
const FANOUT_EVENTS = 20;
const FANOUT_THREADS = Math.max(1, Math.min(4, cpus().length));

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100;
}
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { samples: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: percentile(s, 100) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal SSE reader: calls onEvent(event, data) per frame. */
async function readSse(
  res: IncomingMessage,
  onEvent: (event: string, data: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res as AsyncIterable<Uint8Array>) {
      if (signal.aborted) return;
      buf += decoder.decode(chunk, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = '';
        let data = '';
        for (const line of frame.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (event) onEvent(event, data);
        end = buf.indexOf('\n\n');
      }
    }
  } catch {
    // aborted
  }
}

/** CPU time (ms) of this process's descendants, by pid. */
function processCpu(): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  const parent = new Map<number, number>();
  const info = new Map<number, { name: string; ms: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = st.lastIndexOf(')');
      const name = st.slice(st.indexOf('(') + 1, close);
      const f = st.slice(close + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      info.set(Number(d), { name, ms: ((Number(f[11]) + Number(f[12])) * 1000) / 100 });
    } catch {}
  }
  for (const [pid, i] of info) {
    let p = parent.get(pid);
    while (p && p !== process.pid) p = parent.get(p);
    if (p === process.pid) out.set(pid, i);
  }
  return out;
}

/** A process-wide monotonic clock in ms: the same in every worker thread of this process. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// The fan-out clients, as plain JavaScript run in worker threads: each opens its share of the streams and,
// for each event id the main thread announced, reports when the first and the last of its streams got it.
const CLIENT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, count } = workerData;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const pending = new Map(); // id -> { n, first, last }
const expected = new Set();
function report(id) {
  const p = pending.get(id);
  if (!p || p.n < count || !expected.has(id)) return;
  expected.delete(id);
  pending.delete(id);
  parentPort.postMessage({ id, first: p.first, last: p.last });
}
function seen(id, at) {
  let p = pending.get(id);
  if (!p) { p = { n: 0, first: at, last: at }; pending.set(id, p); }
  p.n++;
  if (at < p.first) p.first = at;
  if (at > p.last) p.last = at;
  report(id);
}
parentPort.on('message', (m) => {
  if (m.expect) { expected.add(m.expect); report(m.expect); }
  if (m.close) { agent.destroy(); process.exit(0); }
});
let open = 0;
for (let i = 0; i < count; i++) {
  const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) { parentPort.postMessage({ error: 'HTTP ' + res.statusCode }); return; }
    if (++open === count) parentPort.postMessage({ ready: true });
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk) => {
      const at = now();
      buf += chunk;
      let end;
      while ((end = buf.indexOf('\\n\\n')) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!frame.includes('event: status\\n')) continue;
        const d = frame.indexOf('data: ');
        if (d < 0) continue;
        const nl = frame.indexOf('\\n', d);
        seen(JSON.parse(frame.slice(d + 6, nl < 0 ? undefined : nl)).id, at);
      }
    });
    res.on('error', () => {});
  });
  req.on('error', (err) => parentPort.postMessage({ error: String(err) }));
}
`;

interface ClientPool {
  /** Resolves when every client received the event: the first and the last receipt (monotonicMs). */
  expect(id: string): Promise<{ first: number; last: number }>;
  close(): Promise<void>;
}

async function startClientPool(url: string, clients: number, threads: number): Promise<ClientPool> {
  const workers: Worker[] = [];
  const waiting = new Map<
    string,
    { left: number; first: number; last: number; done: (r: { first: number; last: number }) => void }
  >();
  const ready: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const count = Math.floor(clients / threads) + (t < clients % threads ? 1 : 0);
    const w = new Worker(CLIENT_THREAD, { eval: true, workerData: { url, count } });
    workers.push(w);
    ready.push(
      new Promise((resolve, reject) => {
        w.on('message', (m: { ready?: true; error?: string; id?: string; first?: number; last?: number }) => {
          if (m.error) reject(new Error(`fan-out SSE: ${m.error}`));
          else if (m.ready) resolve();
          else if (m.id) {
            const x = waiting.get(m.id);
            if (!x) return;
            x.first = Math.min(x.first, m.first!);
            x.last = Math.max(x.last, m.last!);
            if (--x.left === 0) {
              waiting.delete(m.id);
              x.done({ first: x.first, last: x.last });
            }
          }
        });
        w.on('error', reject);
      }),
    );
  }
  await Promise.all(ready);
  return {
    expect(id) {
      return new Promise((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`fan-out: event ${id} not received by every client in 30 s`)),
          30_000,
        );
        const finish = (r: { first: number; last: number }) => {
          clearTimeout(timer);
          done(r);
        };
        waiting.set(id, { left: workers.length, first: Number.POSITIVE_INFINITY, last: 0, done: finish });
        for (const w of workers) w.postMessage({ expect: id });
      });
    },
    async close() {
      for (const w of workers) w.postMessage({ close: true });
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tod-bench-'));
  await chmod(dir, 0o755);
  const {
    pg,
    superDbUrl: dbUrl,
    appUrl,
  } = await startTodDatabase({
    dataDir: join(dir, 'pg'),
    database: DB,
    ownerPassword: 'bench-owner',
    appPassword: 'bench-app',
    ephemeral: true,
  });
  const nats = await startNats({ dir: join(dir, 'nats') });
  const disposers: (() => Promise<void>)[] = [];
  try {
    const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
    disposers.push(() => sql.end());

    const [tenant] = await sql<{ id: string }[]>`
      INSERT INTO tenants (name, slug) VALUES ('Bench', 'bench') RETURNING id`;
    const tenantId = tenant!.id;
    const [col] = await sql<{ id: string }[]>`
      INSERT INTO collectors (tenant_id, name) VALUES (${tenantId}, 'site') RETURNING id`;
    const collectorId = col!.id;
    const deviceIds: string[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const [d] = await sql<{ id: string }[]>`
        INSERT INTO devices (tenant_id, name, host, collector_id)
        VALUES (${tenantId}, ${`r${i}`}, ${`10.0.${i >> 8}.${i & 255}`}, ${collectorId}) RETURNING id`;
      deviceIds.push(d!.id);
    }
    const apiKey = `mktp_${randomBytes(24).toString('base64url')}`;
    await sql`INSERT INTO api_keys (tenant_id, name, prefix, key_hash, role)
      VALUES (${tenantId}, 'bench', 'mktp_x', ${createHash('sha256').update(apiKey).digest()}, 'viewer')`;

    const nc = await connect({ servers: nats.url });
    disposers.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: EVENT_STREAM.name,
      subjects: [...EVENT_STREAM.subjects],
      duplicate_window: EVENT_STREAM.duplicateWindowMs * 1_000_000,
    });
    const js = jetstream(nc);
    let n = 0;
    const interfacesEvent = (at = new Date()): DeviceEvent => {
      const deviceId = deviceIds[n++ % DEVICES]!;
      return {
        v: 1,
        id: randomUUID(),
        tenantId,
        deviceId,
        collectorId,
        at: at.toISOString(),
        kind: 'interfaces',
        data: {
          interfaces: Array.from({ length: INTERFACES_PER_EVENT }, (_, i) => ({
            name: `ether${i + 1}`,
            type: 'ether',
            running: true,
            disabled: false,
            rxBytes: n * 1000,
            txBytes: n * 500,
            rxPackets: n,
            txPackets: n,
            rxBps: 1_000_000 + i,
            txBps: 500_000 + i,
          })),
        },
      };
    };
    const resourceEvent = (at = new Date()): DeviceEvent => ({
      v: 1,
      id: randomUUID(),
      tenantId,
      deviceId: deviceIds[n++ % DEVICES]!,
      collectorId,
      at: at.toISOString(),
      kind: 'resource',
      data: {
        identity: 'r',
        cpuLoad: n % 100,
        freeMemory: 1000,
        totalMemory: 2000,
        freeHdd: 10,
        totalHdd: 20,
        uptimeSeconds: n,
        version: '7.16',
        boardName: 'RB5009',
        architecture: 'arm64',
      },
    });
    const publish = (e: DeviceEvent) =>
      js.publish(eventSubject(e.tenantId, e.deviceId, e.kind), JSON.stringify(e), { msgID: e.id });

    // 1. A backlog on the stream before the hub starts: how fast it is stored.
    for (let i = 0; i < BACKLOG_EVENTS; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, BACKLOG_EVENTS - i) }, () => publish(interfacesEvent())),
      );
    }

    const w = await unstable_startWorker({
      config: `${ROOT}wrangler.toml`,
      bindings: Object.fromEntries(
        Object.entries({
          ENVIRONMENT: 'test',
          DATABASE_URL: appUrl,
          NATS_WS_URL: nats.wsUrl,
          JWT_SECRET_KEY: 'bench-jwt-secret-Zq8Lr2Xw5Kc7Hn1Bp4Yd6Fs0Gj3Ue9A',
          CREDENTIAL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        }).map(([k, v]) => [k, { type: 'plain_text' as const, value: v }]),
      ),
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        persist: false,
        watch: false,
        logLevel: 'error',
      },
    });
    disposers.push(() => w.dispose());
    await w.ready;
    const base = (await w.url).toString().replace(/\/$/, '');
    // Node's http client: one socket per stream, no pool limit.
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const abort = new AbortController();
    // SSE clients connect with a short-lived SSE token (a JWT: no database round trip per connection, like a
    // browser's session cookie), fetched once with the API key.
    const sseToken = async () => {
      const res = await fetch(`${base}/api/sse/token`, { method: 'POST', headers: { 'x-api-key': apiKey } });
      if (res.status !== 200) throw new Error(`SSE token: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    };
    let token = await sseToken();
    const openSse = (topics = 'status,metrics') =>
      new Promise<IncomingMessage>((resolve, reject) => {
        get(
          `${base}/api/sse?topics=${topics}&token=${encodeURIComponent(token)}`,
          { agent, signal: abort.signal, headers: { accept: 'text/event-stream' } },
          resolve,
        ).on('error', reject);
      });

    // Connecting the first SSE client wakes the hub.
    const t0 = performance.now();
    const first = await openSse();
    if (first.statusCode !== 200) throw new Error(`SSE: HTTP ${first.statusCode}`);
    const received = new Map<string, number>();
    void readSse(
      first,
      (event, data) => {
        if (event === 'snapshot') return;
        received.set((JSON.parse(data) as { id: string }).id, performance.now());
      },
      abort.signal,
    );
    const stored = async () =>
      Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM ingested_events`)[0]!.n);
    while ((await stored()) < BACKLOG_EVENTS) await sleep(50);
    const drainMs = performance.now() - t0;
    const rows = BACKLOG_EVENTS * INTERFACES_PER_EVENT;

    // 2. Steady 1,000 events/s: publish time to SSE receipt.
    const sent = new Map<string, number>();
    const tick = 10;
    const perTick = (LATENCY_RATE * tick) / 1000;
    const startSteady = performance.now();
    for (let k = 0; k < (LATENCY_SECONDS * 1000) / tick; k++) {
      const due = startSteady + k * tick;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const batch = Array.from({ length: perTick }, () => resourceEvent());
      for (const e of batch) sent.set(e.id, performance.now());
      await Promise.all(batch.map(publish));
    }
    const steadyDeadline = performance.now() + 30_000;
    while ([...sent.keys()].some((id) => !received.has(id)) && performance.now() < steadyDeadline)
      await sleep(50);
    const latencies = [...sent].filter(([id]) => received.has(id)).map(([id, t]) => received.get(id)! - t);
    const lost = sent.size - latencies.length;
    // Where the time goes: observation (publish) to the start of the storing transaction.
    const [storeLag] = await sql<{ p50: number; p99: number }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
      FROM (SELECT extract(epoch FROM received_at - at) * 1000 AS ms FROM ingested_events
            WHERE id = ANY(${[...sent.keys()]})) x`;

    // 3. Fan-out: one tenant, many SSE clients; publish to the last client's receipt. The clients live in
    // worker threads of their own (FANOUT_THREADS, one per core), so reading 1,000 sockets does not queue
    // behind this thread's publishing and bookkeeping: what is measured is the server's fan-out.
    console.log(JSON.stringify({ drainMs, rows, latency: summary(latencies), lost, storeLag }));
    token = await sseToken();
    const pool = await startClientPool(
      `${base}/api/sse?topics=status&token=${encodeURIComponent(token)}`,
      FANOUT_CLIENTS,
      FANOUT_THREADS,
    );
    disposers.push(() => pool.close());
    const fanout: number[] = [];
    const spread: number[] = [];
    const cpu0 = processCpu();
    const self0 = process.cpuUsage();
    for (let i = 0; i < FANOUT_EVENTS; i++) {
      const e: DeviceEvent = {
        v: 1,
        id: randomUUID(),
        tenantId,
        deviceId: deviceIds[i % DEVICES]!,
        collectorId,
        at: new Date().toISOString(),
        kind: 'status',
        data: { status: 'online', consecutiveFailures: 0 },
      };
      const arrived = pool.expect(e.id);
      const t = monotonicMs();
      await publish(e);
      const { first, last } = await arrived;
      fanout.push(last - t);
      spread.push(last - first);
      await sleep(200);
    }
    const cpu1 = processCpu();
    const self1 = process.cpuUsage(self0);
    const cpuMs: Record<string, number> = { bench: Math.round((self1.user + self1.system) / 1000) };
    for (const [pid, v] of cpu1) {
      const ms = v.ms - (cpu0.get(pid)?.ms ?? 0);
      if (ms > 0) cpuMs[`${v.name}#${pid}`] = Math.round(ms);
    }
    console.log(JSON.stringify({ fanout: summary(fanout), spread: summary(spread), cpuMs }));
    abort.abort();

    const results = {
      benchmark: 'pipeline',
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        // The machine is shared: the 1-minute load average when the run ended.
        loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      },
      command: 'npm run bench pipeline',
      storeThroughput: {
        note: 'backlog of interface events (10 interfaces each) drained by one TenantHub into Postgres',
        events: BACKLOG_EVENTS,
        metricRows: rows,
        seconds: Math.round(drainMs) / 1000,
        eventsPerSecond: Math.round(BACKLOG_EVENTS / (drainMs / 1000)),
        metricRowsPerSecond: Math.round(rows / (drainMs / 1000)),
        targetMetricRowsPerSecond: 5000,
      },
      eventToSseLatency: {
        note: `${LATENCY_RATE} resource events/s for ${LATENCY_SECONDS} s, publish to receipt by an SSE client`,
        ...summary(latencies),
        lost,
        publishToStoreMs: { p50: Math.round(storeLag!.p50), p99: Math.round(storeLag!.p99) },
        targetP99Ms: 500,
      },
      fanOut: {
        note: `${FANOUT_CLIENTS} SSE clients of one tenant, read by ${FANOUT_THREADS} worker threads of the bench; publish to receipt by the last client`,
        clients: FANOUT_CLIENTS,
        ...summary(fanout),
        firstToLastClientMs: { p50: summary(spread).p50Ms, p99: summary(spread).p99Ms },
        // CPU time each process used while the events fanned out (the edge is the busier workerd; the other
        // is wrangler's local proxy in front of it, which production does not have).
        cpuMs,
        targetP99Ms: 250,
      },
    };
    await writeFile(join(ROOT, 'bench/results/pipeline.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  } finally {
    for (const d of disposers.reverse()) await d().catch(() => {});
    await nats.stop();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
