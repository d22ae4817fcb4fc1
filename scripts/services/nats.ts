// A real nats-server (Debian package `nats-server`) with JetStream and a websocket listener, for `npm start`
// and the test suite. Ports are chosen by the server (-1) and read back from its log, so parallel test files
// never collide.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsOperator } from './nats-auth';

export interface NatsHandle {
  /** nats://127.0.0.1:<port> for Node clients (collector). */
  url: string;
  /** ws://127.0.0.1:<port> for the edge (workerd speaks NATS over WebSocket). */
  wsUrl: string;
  /** http://127.0.0.1:<port> monitoring endpoint (/healthz, /jsz). */
  monitorUrl: string;
  pid: number;
  /** The operator set-up when started with `auth`: clients need credentials it issues. */
  auth?: NatsOperator;
  stop(): Promise<void>;
  /** SIGKILL, for failure tests. */
  kill(): void;
}

export interface NatsOptions {
  dir: string;
  port?: number;
  wsPort?: number;
  monitorPort?: number;
  onLog?: (line: string) => void;
  /** Run in operator mode (JWT auth) with this operator; without it the server accepts anyone (tests). */
  auth?: NatsOperator;
}

export function findNatsServer(): string | undefined {
  for (const candidate of [process.env.NATS_SERVER_BIN, '/usr/bin/nats-server', '/usr/sbin/nats-server']) {
    if (candidate && spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nats-server']);
  const found = which.stdout?.toString().trim();
  return found ? found : undefined;
}

export const NATS_INSTALL_HINT =
  'nats-server is not installed: run `sudo apt-get install -y nats-server` (Debian/Ubuntu) or set NATS_URL and NATS_WS_URL to a running server';

export async function startNats(opts: NatsOptions): Promise<NatsHandle> {
  const bin = findNatsServer();
  if (!bin) throw new Error(NATS_INSTALL_HINT);
  await mkdir(join(opts.dir, 'jetstream'), { recursive: true });
  const conf = join(opts.dir, 'nats.conf');
  await writeFile(
    conf,
    [
      `listen: 127.0.0.1:${opts.port ?? -1}`,
      `http: 127.0.0.1:${opts.monitorPort ?? -1}`,
      'max_payload: 8MB',
      `jetstream { store_dir: ${JSON.stringify(join(opts.dir, 'jetstream'))}, max_memory_store: 256MB, max_file_store: 4GB }`,
      `websocket { listen: "127.0.0.1:${opts.wsPort ?? -1}", no_tls: true }`,
      ...(opts.auth?.serverConfig ?? []),
      '',
    ].join('\n'),
  );
  // A small shell keeps the server tied to us: it stops nats-server when our end of its stdin closes, which
  // also happens when this process dies without cleaning up (a killed test worker, a crashed launcher).
  const child = spawn('sh', ['-c', WATCHDOG, 'nats-watchdog', bin, '-c', conf], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const ports = await readPorts(child, opts.onLog);
  return {
    url: `nats://127.0.0.1:${ports.client}`,
    wsUrl: `ws://127.0.0.1:${ports.ws}`,
    monitorUrl: `http://127.0.0.1:${ports.http}`,
    pid: ports.pid,
    ...(opts.auth ? { auth: opts.auth } : {}),
    stop: () => stopChild(child),
    kill: () => {
      try {
        process.kill(ports.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

// Background jobs of a non-interactive shell read /dev/null, so the watcher reads our pipe through fd 3.
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'pid=$!',
  '(cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null) &',
  'wait "$pid"',
].join('\n');

function readPorts(
  child: ChildProcess,
  onLog?: (line: string) => void,
): Promise<{ client: number; ws: number; http: number; pid: number }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const found: { client?: number; ws?: number; http?: number } = {};
    const timer = setTimeout(() => fail(new Error('nats-server did not report ready within 15 s')), 15_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('exit', (code) => fail(new Error(`nats-server exited with code ${code}: ${buf.slice(-500)}`)));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buf += chunk;
      for (const line of chunk.split('\n')) if (line) onLog?.(line);
      const client = /Listening for client connections on [\d.]+:(\d+)/.exec(buf);
      const ws = /Listening for websocket clients on ws:\/\/[\d.]+:(\d+)/.exec(buf);
      const http = /Starting http monitor on [\d.]+:(\d+)/.exec(buf);
      const pid = /^\[(\d+)\]/.exec(buf);
      if (client?.[1]) found.client = Number(client[1]);
      if (ws?.[1]) found.ws = Number(ws[1]);
      if (http?.[1]) found.http = Number(http[1]);
      if (found.client && found.ws && found.http && /Server is ready/.test(buf)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr?.removeAllListeners('data');
        if (onLog) {
          child.stderr?.on('data', (c: string) => {
            for (const l of c.split('\n')) if (l) onLog(l);
          });
        } else child.stderr?.resume();
        resolve({ client: found.client, ws: found.ws, http: found.http, pid: Number(pid?.[1] ?? 0) });
      }
    });
  });
}

/** Closing the watchdog's stdin stops nats-server gracefully; the shell exits when the server has. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.stdin?.end();
  });
}
