import { describe, expect, it } from 'vitest';
import {
  appendLive,
  type ChartPoint,
  clientsFromPoints,
  interfaceSeries,
  metricsPath,
  rangeResolution,
  rowsFromPoints,
  rowsFromSample,
} from './metrics';

describe('ranges', () => {
  it('maps each range to the resolution the API serves it at', () => {
    expect(rangeResolution('1h')).toBe('raw');
    expect(rangeResolution('6h')).toBe('raw');
    expect(rangeResolution('24h')).toBe('5m');
    expect(rangeResolution('7d')).toBe('5m');
    expect(rangeResolution('30d')).toBe('1h');
    expect(rangeResolution('90d')).toBe('1h');
  });

  it('asks for the span ending now, with the interface or client escaped', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    const path = metricsPath('d1', { kind: 'interfaces', range: '6h', interface: 'a&b <x>' }, now);
    const u = new URL(path, 'http://x');
    expect(u.pathname).toBe('/api/devices/d1/metrics');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      kind: 'interfaces',
      from: '2026-11-23T06:00:00.000Z',
      interface: 'a&b <x>',
    });
  });
});

describe('live points', () => {
  const p = (t: number, v: number | null = t): ChartPoint => ({ t, v });

  it('appends a newer sample and drops what slid out of the window', () => {
    const s = [p(10), p(20), p(30)];
    expect(appendLive(s, p(40), 15)).toEqual([p(20), p(30), p(40)]);
    expect(s).toHaveLength(3);
  });

  it('replaces a sample at the same time and inserts an older one in order', () => {
    const s = [p(10), p(20), p(30)];
    expect(appendLive(s, p(20, 99), 0)).toEqual([p(10), p(20, 99), p(30)]);
    expect(appendLive(s, p(25), 0)).toEqual([p(10), p(20), p(25), p(30)]);
    expect(appendLive(s, p(5), 0)).toEqual([p(5), p(10), p(20), p(30)]);
    expect(appendLive([], p(5), 0)).toEqual([p(5)]);
  });

  it('ignores a sample older than the window and caps the length', () => {
    expect(appendLive([p(10)], p(5), 8)).toEqual([p(10)]);
    expect(appendLive([p(1), p(2), p(3)], p(4), 0, 3)).toEqual([p(2), p(3), p(4)]);
  });
});

describe('rows', () => {
  const pt = (t: string, name: string, rx: number | null, running: boolean | null = true) => ({
    t,
    interface: name,
    samples: 1,
    rxBpsAvg: rx,
    rxBpsMax: rx,
    txBpsAvg: 1,
    txBpsMax: 1,
    running,
  });

  it('keeps the newest stored point per interface, in natural name order', () => {
    const rows = rowsFromPoints([
      pt('2026-11-23T10:01:00Z', 'ether10', 5),
      pt('2026-11-23T10:00:00Z', 'ether2', 1),
      pt('2026-11-23T10:01:00Z', 'ether2', 2, false),
    ]);
    expect(rows.map((r) => [r.name, r.rxBps, r.running])).toEqual([
      ['ether2', 2, false],
      ['ether10', 5, true],
    ]);
    const { rx } = interfaceSeries(
      [pt('2026-11-23T10:00:00Z', 'ether2', 1), pt('2026-11-23T10:00:00Z', 'ether10', 7)],
      'ether2',
    );
    expect(rx).toEqual([{ t: Date.parse('2026-11-23T10:00:00Z'), v: 1 }]);
  });

  it('takes a live sample as it is, rates absent on the first poll', () => {
    const [row] = rowsFromSample(
      [
        {
          name: 'ether1',
          type: 'ether',
          running: true,
          disabled: false,
          rxBytes: 1,
          txBytes: 2,
          rxPackets: 0,
          txPackets: 0,
          rxErrors: 3,
        },
      ],
      42,
    );
    expect(row).toMatchObject({ rxBps: null, txBps: null, rxErrors: 3, txErrors: null, at: 42 });
  });

  it('lists the wireless clients seen in the last minutes of the data', () => {
    const w = (t: string, client: string, signal: number) => ({
      t,
      client,
      interface: 'wlan1',
      samples: 1,
      signalAvg: signal,
      signalMin: signal,
      signalMax: signal,
      txRateAvg: 780,
      rxRateAvg: 866.7,
    });
    const clients = clientsFromPoints([
      w('2026-11-23T09:00:00Z', 'aa:00:00:00:00:09', -70),
      w('2026-11-23T10:00:00Z', 'AA:00:00:00:00:01', -60),
      w('2026-11-23T10:01:00Z', 'aa:00:00:00:00:01', -58),
    ]);
    expect(clients.map((c) => [c.mac, c.signalDbm])).toEqual([['AA:00:00:00:00:01', -58]]);
  });
});
