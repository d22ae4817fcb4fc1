// The command channel against the simulator and a real nats-server, both clocks manual: requests and typed
// replies (bad input never crashes), menu reads, standard and safe apply with confirm, a safe apply the device
// reverts by itself (also one that cut the collector off by disabling the API service), device errors with
// the device's text, bulk CLI and binary backups.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type CollectorCommandInput, type CommandReply, commandSubject } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock as SimClock } from '../../simulator/src/device/clock';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import type { Collector } from '../src/collector';
import { ensureEventStream } from '../src/relay/relay';
import { RouterSession } from '../src/routeros/session';
import { pollRound, StreamTap, startCollectorWithDevice, until, uuid } from './harness';

const TENANT = uuid(0xa, 3);
const COLLECTOR = uuid(0xc, 3);
const DEVICE = uuid(0xd, 1);
const START = Date.UTC(2026, 0, 10, 9, 0, 0);

let nc: NatsConnection;
let fleet: Fleet;
let collector: Collector;
let tap: StreamTap;
const simClock = new SimClock(START);
const clock = new ManualClock(START);
let opSeq = 0;
const newOp = () => uuid(0xe, ++opSeq);

async function adminSession(): Promise<RouterSession> {
  const m = fleet.manifest.devices[0]!;
  return RouterSession.open(
    { host: m.host, port: m.port, tlsPort: m.port, tlsMode: 'plain', username: 'admin', password: 'admin' },
    { connectTimeoutMs: 5000, commandTimeoutMs: 5000 },
  );
}
async function onDevice<T>(fn: (s: RouterSession) => Promise<T>): Promise<T> {
  const s = await adminSession();
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

async function request(body: unknown, raw = false): Promise<CommandReply> {
  const m = await nc.request(
    commandSubject(TENANT, COLLECTOR),
    raw ? (body as string) : JSON.stringify(body),
    { timeout: 20_000 },
  );
  return m.json<CommandReply>();
}
const send = (cmd: CollectorCommandInput) => request(cmd);

/** Both clocks advance by a poll interval; the device's slot finishes and its events are in the stream. */
async function round(): Promise<void> {
  await pollRound(collector, { clock, simClock, ms: 60_000 });
  await tap.settle(nc, collector);
}
const opStates = (operationId: string) =>
  tap
    .of(DEVICE, 'config-operation')
    .map((e) => (e.kind === 'config-operation' && e.data.operationId === operationId ? e.data.state : null))
    .filter(Boolean);
const statuses = () => tap.of(DEVICE, 'status').map((e) => (e.kind === 'status' ? e.data.status : ''));

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  fleet = await startFleet({
    devices: 1,
    boards: ['rb5009'],
    clock: simClock,
    tls: false,
    rebootDurationMs: 2000,
  });
  onFileEnd(() => fleet.stop());
  collector = await startCollectorWithDevice({
    nc,
    ids: { tenantId: TENANT, collectorId: COLLECTOR, deviceId: DEVICE },
    port: fleet.manifest.devices[0]!.port,
    clock,
    stateDirPrefix: 'tod-col-commands-',
    env: { BREAKER_THRESHOLD: '100' },
  });
  await round();
});

describe('command channel', () => {
  it('answers bad requests with typed errors and keeps serving', async () => {
    expect(await request('{not json', true)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await request({ op: 'format-disk', deviceId: DEVICE })).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
    expect(await request({ op: 'menu.print', deviceId: DEVICE, path: 'ip address' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
    expect(await send({ op: 'menu.print', deviceId: uuid(0xd, 99), path: '/ip/address' })).toMatchObject({
      ok: false,
      error: { code: 'unknown_device' },
    });
    const menu = await send({ op: 'menu.print', deviceId: DEVICE, path: '/ip/address' });
    expect(menu.ok).toBe(true);
    const rows = (menu as { result: { rows: Record<string, string>[] } }).result.rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]?.['.id']).toMatch(/^\*/);
  });

  it('applies a standard change; a device error fails with the device text', async () => {
    const op = newOp();
    const reply = await send({
      op: 'config.apply',
      deviceId: DEVICE,
      operationId: op,
      mode: 'standard',
      commands: ['/ip address add address=10.77.0.1/24 interface=ether2 comment="added by TOD"'],
    });
    expect(reply).toMatchObject({ ok: true, result: { state: 'applied' } });
    const rows = await onDevice((s) =>
      s.run('/ip/address/print').then((rows) => rows.filter((r) => r.address === '10.77.0.1/24')),
    );
    expect(rows[0]).toMatchObject({ interface: 'ether2', comment: 'added by TOD' });

    const bad = newOp();
    const failed = await send({
      op: 'config.apply',
      deviceId: DEVICE,
      operationId: bad,
      mode: 'standard',
      commands: ['/ip address add address=10.78.0.1/24 interface=nope0'],
    });
    expect(failed).toMatchObject({
      ok: true,
      result: {
        state: 'failed',
        error: expect.stringContaining('input does not match any value of interface'),
      },
    });
    await tap.settle(nc, collector);
    expect(opStates(op)).toEqual(['applying', 'applied']);
    expect(opStates(bad)).toEqual(['applying', 'failed']);
  });

  it('keeps a confirmed safe apply', async () => {
    const op = newOp();
    const reply = await send({
      op: 'config.apply',
      deviceId: DEVICE,
      operationId: op,
      mode: 'safe',
      timeoutSeconds: 120,
      commands: ['/system identity set name=confirmed-name'],
    });
    expect(reply).toMatchObject({ ok: true, result: { state: 'pending-confirmation' } });
    expect(
      await onDevice((s) =>
        s.run('/system/scheduler/print').then((rows) => rows.filter((r) => r.name === `tod-safe-${op}`)),
      ),
    ).toHaveLength(1);
    expect(await send({ op: 'config.confirm', deviceId: DEVICE, operationId: op })).toMatchObject({
      ok: true,
      result: { state: 'confirmed' },
    });
    expect(await send({ op: 'config.confirm', deviceId: DEVICE, operationId: op })).toMatchObject({
      ok: false,
      error: { code: 'not_pending' },
    });
    simClock.advance(200_000);
    await round();
    expect((await onDevice((s) => s.run('/system/identity/print')))[0]?.name).toBe('confirmed-name');
    expect(await onDevice((s) => s.run('/system/scheduler/print'))).toHaveLength(0);
    expect(opStates(op)).toEqual(['applying', 'pending-confirmation', 'confirmed']);
  });

  it('reverts a safe apply nobody confirmed', async () => {
    const op = newOp();
    expect(
      await send({
        op: 'config.apply',
        deviceId: DEVICE,
        operationId: op,
        mode: 'safe',
        timeoutSeconds: 30,
        commands: ['/system identity set name=unconfirmed'],
      }),
    ).toMatchObject({ ok: true, result: { state: 'pending-confirmation' } });
    expect((await onDevice((s) => s.run('/system/identity/print')))[0]?.name).toBe('unconfirmed');
    await round(); // the revert ran on the device's clock (30 s), it reboots (2 s) …
    await round(); // … and the next poll sees it back, without the revert entry
    expect(opStates(op)).toEqual(['applying', 'pending-confirmation', 'reverted']);
    expect((await onDevice((s) => s.run('/system/identity/print')))[0]?.name).toBe('confirmed-name');
    expect(await send({ op: 'config.confirm', deviceId: DEVICE, operationId: op })).toMatchObject({
      ok: false,
      error: { code: 'not_pending' },
    });
  });

  it('reverts a change that disabled the API service: the device comes back by itself', async () => {
    const api = (
      await onDevice((s) => s.run('/ip/service/print').then((rows) => rows.filter((r) => r.name === 'api')))
    )[0]!;
    const op = newOp();
    const reply = await send({
      op: 'config.apply',
      deviceId: DEVICE,
      operationId: op,
      mode: 'safe',
      timeoutSeconds: 90,
      commands: [`/ip service disable ${api['.id']}`],
    });
    expect(reply).toMatchObject({ ok: true, result: { state: 'pending-confirmation' } });
    expect(await send({ op: 'menu.print', deviceId: DEVICE, path: '/ip/service' })).toMatchObject({
      ok: false,
      error: { code: 'device_unreachable' },
    });
    await round();
    expect(statuses().at(-1)).toBe('unreachable');
    await round();
    await round();
    await until(
      () => opStates(op),
      (s) => s.includes('reverted'),
      10_000,
      'the revert reported',
    );
    expect(statuses().at(-1)).toBe('online');
    expect(opStates(op)).toEqual(['applying', 'pending-confirmation', 'reverted']);
    expect(
      (
        await onDevice((s) => s.run('/ip/service/print').then((rows) => rows.filter((r) => r.name === 'api')))
      )[0]?.disabled,
    ).toBe('false');
  });

  it('a safe apply that fails leaves nothing behind and reports the device text', async () => {
    const op = newOp();
    const reply = await send({
      op: 'config.apply',
      deviceId: DEVICE,
      operationId: op,
      mode: 'safe',
      commands: ['/ip address add address=10.79.0.1/24 interface=nope0'],
    });
    expect(reply).toMatchObject({
      ok: true,
      result: {
        state: 'failed',
        error: expect.stringContaining('input does not match any value of interface'),
      },
    });
    expect(await onDevice((s) => s.run('/system/scheduler/print'))).toHaveLength(0);
  });

  it('runs bulk CLI and binary backups', async () => {
    expect(await send({ op: 'cli.run', deviceId: DEVICE, script: '/system identity print' })).toEqual({
      ok: true,
      result: { output: 'name=confirmed-name' },
    });
    const backup = await send({ op: 'backup.binary', deviceId: DEVICE, name: 'before-upgrade' });
    expect(backup).toMatchObject({ ok: true, result: { name: 'before-upgrade.backup' } });
    expect((backup as { result: { size: number } }).result.size).toBeGreaterThan(0);
    const before = tap.of(DEVICE, 'config-snapshot').length;
    expect(await send({ op: 'backup.export', deviceId: DEVICE })).toEqual({
      ok: true,
      result: { queued: true },
    });
    await tap.settle(nc, collector);
    const snaps = tap.of(DEVICE, 'config-snapshot');
    expect(snaps.length).toBe(before + 1);
    expect(snaps.at(-1)?.kind === 'config-snapshot' && snaps.at(-1)?.data).toMatchObject({
      trigger: 'manual',
    });
  });
});
