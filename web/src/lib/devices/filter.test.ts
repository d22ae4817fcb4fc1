import type { Device } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { countBy, EMPTY_FILTER, filterDevices } from './filter';

function device(i: number, over: Partial<Device> = {}): Device {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `dev-${i}`,
    host: `10.0.0.${i}`,
    port: 8728,
    tlsMode: 'plain',
    collectorId: null,
    hasCredentials: false,
    model: null,
    serial: null,
    routerosVersion: null,
    status: 'unknown',
    lastSeenAt: null,
    latitude: null,
    longitude: null,
    notes: '',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

const asc = { key: 'name' as const, dir: 'asc' as const };

describe('filterDevices', () => {
  it('sorts names naturally (dev-2 before dev-10) and descending on request', () => {
    const list = [device(10), device(2), device(1)];
    expect(filterDevices(list, EMPTY_FILTER, asc).map((d) => d.name)).toEqual(['dev-1', 'dev-2', 'dev-10']);
    expect(filterDevices(list, EMPTY_FILTER, { key: 'name', dir: 'desc' }).map((d) => d.name)).toEqual([
      'dev-10',
      'dev-2',
      'dev-1',
    ]);
  });

  it('searches name, address and serial case-insensitively', () => {
    const list = [device(1, { name: 'Core-Router' }), device(2, { serial: 'HEX123' }), device(3)];
    expect(filterDevices(list, { ...EMPTY_FILTER, q: 'core' }, asc)).toHaveLength(1);
    expect(filterDevices(list, { ...EMPTY_FILTER, q: 'hex1' }, asc)[0]!.id).toBe(list[1]!.id);
    expect(filterDevices(list, { ...EMPTY_FILTER, q: '10.0.0.3' }, asc)[0]!.id).toBe(list[2]!.id);
  });

  it('combines status, model, version, collector and group/tag membership', () => {
    const c = '11111111-1111-4111-8111-111111111111';
    const list = [
      device(1, { status: 'online', model: 'RB5009', routerosVersion: '7.16', collectorId: c }),
      device(2, { status: 'online', model: 'RB5009', routerosVersion: '7.15', collectorId: c }),
      device(3, { status: 'offline', model: 'RB5009', routerosVersion: '7.16', collectorId: c }),
      device(4, { status: 'online', model: 'hAP ax2', routerosVersion: '7.16', collectorId: c }),
    ];
    const f = { ...EMPTY_FILTER, status: 'online', model: 'RB5009', version: '7.16', collectorId: c };
    expect(filterDevices(list, f, asc).map((d) => d.name)).toEqual(['dev-1']);
    expect(filterDevices(list, { ...EMPTY_FILTER, memberIds: new Set([list[3]!.id]) }, asc)).toHaveLength(1);
  });

  it('filters and sorts 10,000 devices without copying the source', () => {
    const list = Array.from({ length: 10_000 }, (_, i) =>
      device(i, { status: i % 3 ? 'online' : 'offline' }),
    );
    const out = filterDevices(list, { ...EMPTY_FILTER, status: 'offline' }, { key: 'name', dir: 'desc' });
    expect(out).toHaveLength(3334);
    expect(out[0]!.name).toBe('dev-9999');
    expect(list[0]!.name).toBe('dev-0');
  });
});

describe('countBy', () => {
  it('counts values, most frequent first', () => {
    const list = [device(1, { model: 'A' }), device(2, { model: 'B' }), device(3, { model: 'B' })];
    expect(countBy(list, (d) => d.model)).toEqual([
      ['B', 2],
      ['A', 1],
    ]);
  });
});
