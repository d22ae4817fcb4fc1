import { DeviceEvent } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedRouter, sentence, startScriptedRouter } from '../../tests/scripted-router';
import { RouterSession } from '../routeros/session';
import { pollDevice } from './poll-device';

const device = {
  tenantId: '6a1d3c52-1b1e-4c3f-9a55-0a0000000001',
  deviceId: '6a1d3c52-1b1e-4c3f-9a55-0b0000000001',
  collectorId: '6a1d3c52-1b1e-4c3f-9a55-0c0000000001',
};

let router: ScriptedRouter;
let history: Record<string, string>[] = [];
let rx = 1000;
const rows: Record<string, () => Record<string, string>[] | 'missing'> = {
  '/system/resource/print': () => [
    {
      uptime: '1d2h',
      version: '7.16.2 (stable)',
      'free-memory': '100',
      'total-memory': '200',
      'cpu-load': '7',
      'free-hdd-space': '10',
      'total-hdd-space': '20',
      'architecture-name': 'arm64',
      'board-name': 'RB5009UG+S+',
    },
  ],
  '/system/identity/print': () => [{ name: 'core-1' }],
  '/system/routerboard/print': () => [
    { model: 'RB5009UG+S+IN', 'serial-number': 'HE30812ABC1', 'current-firmware': '7.16.2' },
  ],
  '/system/health/print': () => [{ name: 'cpu-temperature', value: '41', type: 'C' }],
  '/interface/print': () => [
    {
      name: 'ether1',
      type: 'ether',
      'rx-byte': String(rx),
      'tx-byte': '0',
      'rx-packet': '1',
      'tx-packet': '1',
      running: 'true',
      disabled: 'false',
    },
  ],
  '/interface/wireless/registration-table/print': () => 'missing',
  '/interface/wifi/registration-table/print': () => 'missing',
  '/system/history/print': () => history,
};

beforeAll(async () => {
  router = await startScriptedRouter();
  router.script = (tag, command) => {
    const answer = rows[command]?.() ?? 'missing';
    if (answer === 'missing') {
      return [
        sentence([
          '!trap',
          `=message=no such command or directory (${command.split('/')[2]})`,
          `.tag=${tag}`,
        ]),
        sentence(['!trap', '=message=no such command prefix', `.tag=${tag}`]),
        sentence(['!done', `.tag=${tag}`]),
      ];
    }
    return [
      Buffer.concat([
        ...answer.map((r) =>
          sentence(['!re', ...Object.entries(r).map(([k, v]) => `=${k}=${v}`), `.tag=${tag}`]),
        ),
        sentence(['!done', `.tag=${tag}`]),
      ]),
    ];
  };
});
afterAll(() => router.close());

describe('pollDevice', () => {
  it('turns one poll into valid status, resource, interface and health events; absent menus are skipped', async () => {
    const session = await RouterSession.open(
      { host: '127.0.0.1', port: router.port, tlsPort: 1, tlsMode: 'plain', username: 'a', password: 'b' },
      { connectTimeoutMs: 2000, commandTimeoutMs: 2000 },
    );
    let n = 0;
    let now = 1_000_000;
    const clock = { now: () => now };
    const first = await pollDevice(session, device, {}, clock, () => `evt-${++n}-aaaaaaaa`);
    const events = first.events.map((e) => DeviceEvent.parse(e));
    expect(events.map((e) => e.kind)).toEqual(['status', 'resource', 'interfaces', 'health']);
    const resource = events.find((e) => e.kind === 'resource');
    expect(resource?.kind === 'resource' && resource.data).toMatchObject({
      identity: 'core-1',
      serial: 'HE30812ABC1',
      cpuLoad: 7,
    });

    // Next poll: traffic flowed and the configuration changed.
    now += 60_000;
    rx += 750_000;
    history = [{ '.id': '*1', action: 'address added', time: 'nov/23/2026 07:00:00' }];
    const second = await pollDevice(session, device, first.memory, clock, () => `evt-${++n}-aaaaaaaa`);
    const third = await pollDevice(session, device, second.memory, clock, () => `evt-${++n}-aaaaaaaa`);
    expect(third.events.some((e) => e.kind === 'config-changed')).toBe(false);
    history = [...history, { '.id': '*2', action: 'rule changed', time: 'nov/23/2026 07:01:00' }];
    const fourth = await pollDevice(session, device, third.memory, clock, () => `evt-${++n}-aaaaaaaa`);
    const changed = fourth.events.find((e) => e.kind === 'config-changed');
    expect(changed).toBeDefined();
    const ifaces = DeviceEvent.parse(second.events.find((e) => e.kind === 'interfaces'));
    expect(ifaces.kind === 'interfaces' && ifaces.data.interfaces[0]?.rxBps).toBe(100_000);
    session.close();
  });
});
