// The alert engine on its own: hysteresis, duration, scopes, offline rules, replays and persistence.
import type { DeviceEvent } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { AlertEngine, type EngineRule, type Membership } from './engine';

const TENANT = '00000000-0000-4000-8000-00000000000a';
const COLLECTOR = '00000000-0000-4000-8000-0000000000c1';
const D1 = '00000000-0000-4000-8000-0000000000d1';
const D2 = '00000000-0000-4000-8000-0000000000d2';
const GROUP = '00000000-0000-4000-8000-0000000000a1';
const TAG = '00000000-0000-4000-8000-0000000000b1';
const NOW = new Date('2026-11-23T12:00:00Z');
const NONE: Membership = { groups: {}, tags: {} };

let seq = 0;
const at = (sec: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, sec)).toISOString();

function resource(deviceId: string, sec: number, cpuLoad: number): DeviceEvent {
  return {
    v: 1,
    id: `evt-${(seq++).toString().padStart(8, '0')}`,
    tenantId: TENANT,
    deviceId,
    collectorId: COLLECTOR,
    at: at(sec),
    kind: 'resource',
    data: {
      identity: 'r1',
      cpuLoad,
      freeMemory: 25,
      totalMemory: 100,
      freeHdd: 10,
      totalHdd: 100,
      uptimeSeconds: 1,
      version: '7.16',
      boardName: 'hAP',
      architecture: 'arm',
    },
  };
}

function status(deviceId: string, sec: number, s: 'online' | 'unreachable' | 'degraded'): DeviceEvent {
  return {
    v: 1,
    id: `evt-${(seq++).toString().padStart(8, '0')}`,
    tenantId: TENANT,
    deviceId,
    collectorId: COLLECTOR,
    at: at(sec),
    kind: 'status',
    data: { status: s, consecutiveFailures: 0 },
  };
}

function interfaces(deviceId: string, sec: number, rates: Record<string, number>): DeviceEvent {
  return {
    v: 1,
    id: `evt-${(seq++).toString().padStart(8, '0')}`,
    tenantId: TENANT,
    deviceId,
    collectorId: COLLECTOR,
    at: at(sec),
    kind: 'interfaces',
    data: {
      interfaces: Object.entries(rates).map(([name, rxBps]) => ({
        name,
        type: 'ether',
        running: true,
        disabled: false,
        rxBytes: 0,
        txBytes: 0,
        rxPackets: 0,
        txPackets: 0,
        rxBps,
      })),
    },
  };
}

function rule(over: Partial<EngineRule> = {}): EngineRule {
  return {
    id: '00000000-0000-4000-8000-0000000000e1',
    name: 'CPU high',
    metric: 'cpu_load',
    comparison: 'gt',
    threshold: 90,
    durationSeconds: 0,
    severity: 'warning',
    scope: 'all',
    scopeTargetId: null,
    interfaceName: null,
    fireAfter: 2,
    clearAfter: 2,
    enabled: true,
    ...over,
  };
}

function engineWith(rules: EngineRule[], membership: Membership = NONE): AlertEngine {
  const e = new AlertEngine();
  e.setRules(rules, membership, NOW);
  return e;
}

/** Feeds one CPU value per 10 s and returns the transition kinds with the sample index they came at. */
function run(e: AlertEngine, values: number[], deviceId = D1): string[] {
  const out: string[] = [];
  values.forEach((v, i) => {
    for (const t of e.ingest([resource(deviceId, i * 10, v)], NOW)) out.push(`${t.kind}@${i}`);
  });
  return out;
}

describe('AlertEngine hysteresis', () => {
  it('fires at the Nth consecutive breach and not before', () => {
    expect(run(engineWith([rule()]), [95, 95, 95])).toEqual(['fired@1']);
    expect(run(engineWith([rule({ fireAfter: 4 })]), [95, 95, 95, 95, 95])).toEqual(['fired@3']);
    expect(run(engineWith([rule({ fireAfter: 1 })]), [95])).toEqual(['fired@0']);
  });

  it('resolves at the Mth consecutive clear and not before', () => {
    expect(run(engineWith([rule()]), [95, 95, 10, 10, 10])).toEqual(['fired@1', 'resolved@3']);
    expect(run(engineWith([rule({ clearAfter: 3 })]), [95, 95, 10, 10, 10, 10])).toEqual([
      'fired@1',
      'resolved@4',
    ]);
  });

  it('never flaps on alternating values', () => {
    const alternating = Array.from({ length: 50 }, (_, i) => (i % 2 ? 95 : 10));
    expect(run(engineWith([rule()]), alternating)).toEqual([]);
    // Once firing, alternating values keep it firing: one clear never reaches M = 2.
    expect(run(engineWith([rule()]), [95, 95, ...alternating])).toEqual(['fired@1']);
  });

  it('restarts the count when a clear interrupts the breaches', () => {
    expect(run(engineWith([rule({ fireAfter: 3 })]), [95, 95, 10, 95, 95, 95])).toEqual(['fired@5']);
  });

  it('honours the duration: fires only once the breach has lasted that long', () => {
    // Samples every 10 s; 25 s of breach needs the 4th breaching sample (30 s after the first).
    expect(run(engineWith([rule({ durationSeconds: 25 })]), [95, 95, 95, 95, 95])).toEqual(['fired@3']);
  });

  it('reports the value, threshold and time of the sample that changed the state', () => {
    const e = engineWith([rule()]);
    e.ingest([resource(D1, 0, 93)], NOW);
    const [t] = e.ingest([resource(D1, 10, 97)], NOW);
    expect(t).toMatchObject({
      kind: 'fired',
      deviceId: D1,
      value: 97,
      threshold: 90,
      at: at(10),
      severity: 'warning',
      ruleName: 'CPU high',
      reason: 'breach',
    });
  });

  it('ignores replayed and out-of-order samples', () => {
    const e = engineWith([rule()]);
    const first = resource(D1, 0, 95);
    e.ingest([first], NOW);
    expect(e.ingest([first], NOW)).toEqual([]);
    expect(e.ingest([resource(D1, -10, 95)], NOW)).toEqual([]);
    expect(e.ingest([resource(D1, 10, 95)], NOW).map((t) => t.kind)).toEqual(['fired']);
  });

  it('evaluates devices independently', () => {
    const e = engineWith([rule()]);
    expect(e.ingest([resource(D1, 0, 95), resource(D2, 0, 10), resource(D1, 10, 95)], NOW)).toHaveLength(1);
    expect(e.firing()).toEqual([{ ruleId: rule().id, deviceId: D1, subject: '' }]);
  });

  it('compares with every operator', () => {
    const cases: [EngineRule['comparison'], number, boolean][] = [
      ['gt', 90, false],
      ['gte', 90, true],
      ['lt', 89, true],
      ['lte', 90, true],
      ['eq', 90, true],
      ['ne', 90, false],
    ];
    for (const [comparison, value, fires] of cases) {
      const got = run(engineWith([rule({ comparison, fireAfter: 1 })]), [value]);
      expect(got, `${comparison} ${value}`).toEqual(fires ? ['fired@0'] : []);
    }
  });

  it('derives memory and disk use as percentages', () => {
    const e = engineWith([
      rule({ id: 'mem', metric: 'memory_used_pct', threshold: 70, fireAfter: 1 }),
      rule({ id: 'disk', metric: 'disk_used_pct', threshold: 95, fireAfter: 1 }),
    ]);
    const ts = e.ingest([resource(D1, 0, 1)], NOW);
    expect(ts.map((t) => [t.ruleId, t.value])).toEqual([['mem', 75]]);
  });
});

describe('AlertEngine offline rule', () => {
  const offline = rule({ metric: 'device_offline', comparison: null, threshold: null, name: 'Down' });

  it('fires after N unreachable statuses and resolves after M online ones', () => {
    const e = engineWith([offline]);
    const seqOf = (s: ('online' | 'unreachable' | 'degraded')[]) =>
      s.flatMap((x, i) => e.ingest([status(D1, 100 + i * 10, x)], NOW).map((t) => `${t.kind}@${i}`));
    expect(seqOf(['online', 'unreachable', 'unreachable', 'unreachable', 'online', 'degraded'])).toEqual([
      'fired@2',
      'resolved@5',
    ]);
  });

  it('does not count degraded as down nor flap on a device that answers every other poll', () => {
    const e = engineWith([offline]);
    const out = Array.from({ length: 20 }, (_, i) =>
      e.ingest([status(D1, i * 10, i % 2 ? 'unreachable' : 'degraded')], NOW),
    ).flat();
    expect(out).toEqual([]);
  });

  it('ignores metric events', () => {
    const e = engineWith([offline]);
    expect(e.ingest([resource(D1, 0, 99), resource(D1, 10, 99)], NOW)).toEqual([]);
  });
});

describe('AlertEngine scopes', () => {
  const m: Membership = { groups: { [D1]: [GROUP] }, tags: { [D2]: [TAG] } };

  it('applies a group rule to members only', () => {
    const e = engineWith([rule({ scope: 'group', scopeTargetId: GROUP })], m);
    expect(run(e, [95, 95], D1)).toEqual(['fired@1']);
    expect(run(e, [95, 95], D2)).toEqual([]);
  });

  it('applies a tag rule to tagged devices only', () => {
    const e = engineWith([rule({ scope: 'tag', scopeTargetId: TAG })], m);
    expect(run(e, [95, 95], D1)).toEqual([]);
    expect(run(e, [95, 95], D2)).toEqual(['fired@1']);
  });

  it('applies a device rule to that device only', () => {
    const e = engineWith([rule({ scope: 'device', scopeTargetId: D2 })], m);
    expect(run(e, [95, 95], D1)).toEqual([]);
    expect(run(e, [95, 95], D2)).toEqual(['fired@1']);
  });

  it('resolves an open alert when its device leaves the scope or its rule is disabled or deleted', () => {
    const r = rule({ scope: 'group', scopeTargetId: GROUP });
    const e = engineWith([r], m);
    run(e, [95, 95], D1);
    const out = e.setRules([r], NONE, NOW);
    expect(out).toMatchObject([
      { kind: 'resolved', deviceId: D1, reason: 'rule_removed', at: NOW.toISOString() },
    ]);
    expect(e.firing()).toEqual([]);

    const e2 = engineWith([rule()]);
    run(e2, [95, 95]);
    expect(e2.setRules([rule({ enabled: false })], NONE, NOW)).toHaveLength(1);
    const e3 = engineWith([rule()]);
    run(e3, [95, 95]);
    expect(e3.setRules([], NONE, NOW)).toHaveLength(1);
  });

  it('keeps state across a rename but starts over when the condition changes', () => {
    const e = engineWith([rule()]);
    run(e, [95, 95]);
    expect(e.setRules([rule({ name: 'Renamed' })], NONE, NOW)).toEqual([]);
    expect(e.firing()).toHaveLength(1);
    expect(e.setRules([rule({ threshold: 50 })], NONE, NOW)).toHaveLength(1);
    expect(e.firing()).toHaveLength(0);
  });
});

describe('AlertEngine interfaces and wireless', () => {
  it('tracks each interface on its own, or only the one named', () => {
    const any = engineWith([rule({ metric: 'interface_rx_bps', threshold: 1000, fireAfter: 2 })]);
    const t1 = any.ingest([interfaces(D1, 0, { ether1: 5000, ether2: 10 })], NOW);
    const t2 = any.ingest([interfaces(D1, 10, { ether1: 5000, ether2: 5000 })], NOW);
    expect([...t1, ...t2].map((t) => `${t.kind}:${t.subject}`)).toEqual(['fired:ether1']);
    const named = engineWith([
      rule({ metric: 'interface_rx_bps', threshold: 1000, fireAfter: 1, interfaceName: 'ether2' }),
    ]);
    expect(named.ingest([interfaces(D1, 0, { ether1: 5000, ether2: 10 })], NOW)).toEqual([]);
  });

  it('fires a wireless rule on the weakest client', () => {
    const e = engineWith([
      rule({ metric: 'wireless_signal', comparison: 'lt', threshold: -75, fireAfter: 1 }),
    ]);
    const ev: DeviceEvent = {
      ...status(D1, 0, 'online'),
      kind: 'wireless',
      data: {
        clients: [
          { interface: 'wlan1', macAddress: 'AA', signalDbm: -60 },
          { interface: 'wlan1', macAddress: 'BB', signalDbm: -80 },
        ],
      },
    };
    expect(e.ingest([ev], NOW).map((t) => t.value)).toEqual([-80]);
  });
});

describe('AlertEngine persistence', () => {
  it('continues from serialised state exactly where it stopped', () => {
    const e = engineWith([rule({ fireAfter: 3 })]);
    run(e, [95, 95]);
    const json = JSON.parse(JSON.stringify(e.toJSON()));
    const restored = AlertEngine.fromJSON(json);
    restored.setRules([rule({ fireAfter: 3 })], NONE, NOW);
    expect(restored.ingest([resource(D1, 20, 95)], NOW).map((t) => t.kind)).toEqual(['fired']);
    // The restored engine also remembers what it already saw.
    expect(restored.ingest([resource(D1, 10, 95)], NOW)).toEqual([]);
  });

  it('starts empty from unknown or corrupt state', () => {
    expect(AlertEngine.fromJSON(null).toJSON()).toEqual({ v: 2, devices: {} });
    expect(AlertEngine.fromJSON({ v: 9 }).toJSON()).toEqual({ v: 2, devices: {} });
  });

  it('keeps nothing about quiet rules and reports only the devices that changed', () => {
    const e = engineWith([rule()]);
    e.ingest([resource(D1, 0, 10), resource(D2, 0, 95)], NOW);
    const dirty = e.takeDirty();
    expect([...dirty.keys()].sort()).toEqual([D1, D2]);
    expect(dirty.get(D1)!.keys).toEqual({});
    expect(Object.keys(dirty.get(D2)!.keys)).toEqual([`${rule().id}|`]);
    expect(e.takeDirty().size).toBe(0);
    e.ingest([resource(D2, 10, 95)], NOW);
    expect([...e.takeDirty().keys()]).toEqual([D2]);
    // Rebuilt from per-device entries, it carries on: the next breach is the 3rd, the alert is already open.
    const copy = AlertEngine.fromDevices(Object.entries(e.toJSON().devices));
    copy.setRules([rule()], NONE, NOW);
    expect(copy.firing()).toEqual([{ ruleId: rule().id, deviceId: D2, subject: '' }]);
    expect(copy.ingest([resource(D2, 20, 10), resource(D2, 30, 10)], NOW).map((t) => t.kind)).toEqual([
      'resolved',
    ]);
    e.forgetDevice(D2);
    expect(e.takeDirty().get(D2)).toBeNull();
  });

  it('is deterministic: the same events give the same transitions and state', () => {
    const events = [95, 10, 95, 95, 95, 10, 10, 95].map((v, i) => resource(D1, i * 10, v));
    const a = engineWith([rule()]);
    const b = engineWith([rule()]);
    expect(a.ingest(events, NOW)).toEqual(b.ingest(events, NOW));
    expect(a.toJSON()).toEqual(b.toJSON());
  });
});
