// `tod-collector enroll` then `tod-collector run`, as an MSP runs them, against NATS with JWT auth: the
// collector process logs in with the credentials it was issued and its events reach the stream.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EVENT_STREAM } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../edge/tests/fixtures';
import { type Fleet, startFleet } from '../simulator/src/fleet';

const BIN = join(import.meta.dirname, '..', 'collector', 'bin', 'tod-collector.mjs');

let w: World;
let fleet: Fleet;
let stateDir = '';
let child: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  [w, fleet] = await Promise.all([createWorld({ nats: 'auth' }), startFleet({ devices: 1, tls: false })]);
  stateDir = await mkdtemp(join(tmpdir(), 'tod-collector-cli-'));
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function run(args: string[]): ChildProcess {
  const p = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      TOD_COLLECTOR_STATE_DIR: stateDir,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  p.stdout?.on('data', (c) => {
    output += c;
  });
  p.stderr?.on('data', (c) => {
    output += c;
  });
  return p;
}

describe('tod-collector against NATS with JWT auth', () => {
  it('enrols, logs in with its issued credentials and publishes its device events', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'cli' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    const enrolled = run(['enroll', '--url', w.edge.url, '--token', enrollToken]);
    expect(await new Promise((r) => enrolled.once('exit', r)), output).toBe(0);

    const d = fleet.manifest.devices[0]!;
    const res = await w.a.operator.post('/api/devices', {
      name: 'cli-router',
      host: d.host,
      port: d.port,
      tlsMode: 'plain',
      collectorId,
      credentials: fleet.manifest.credentials,
    });
    expect(res.status).toBe(201);
    const { id: deviceId } = (await res.json()) as { id: string };

    child = run(['run']);
    const nc = await connect({ servers: w.natsUrl!, ...(await w.nats!.auth!.adminOptions()) });
    try {
      const jsm = await jetstreamManager(nc);
      const subject = `tod.evt.${w.tenantA}.${deviceId}.status`;
      const deadline = Date.now() + 90_000;
      for (;;) {
        const info = await jsm.streams
          .info(EVENT_STREAM.name, { subjects_filter: subject })
          .catch(() => null);
        if (info && (info.state.subjects?.[subject] ?? 0) > 0) break;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no status event; output:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await nc.close();
    }
    expect(output).not.toMatch(/Authorization Violation|Permissions Violation/i);
  }, 120_000);
});
