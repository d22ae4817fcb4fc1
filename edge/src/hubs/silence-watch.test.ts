import type { DeviceEvent } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { SilenceWatch, type WatchedDevice } from './silence-watch';

const C = '00000000-0000-4000-8000-00000000000c';
const dev = (id: string, status = 'online', statusAt: string | null = null): WatchedDevice => ({
  id,
  collectorId: C,
  status,
  statusAt,
  lastSeenAt: null,
});
const status = (deviceId: string, s: 'online' | 'offline', at: string): DeviceEvent => ({
  v: 1,
  id: crypto.randomUUID(),
  tenantId: '00000000-0000-4000-8000-00000000000a',
  deviceId,
  collectorId: C,
  at,
  kind: 'status',
  data: { status: s, consecutiveFailures: 0 },
});

describe('SilenceWatch', () => {
  it('gives every device the full threshold after a start, then marks it once per poll interval', () => {
    const w = new SilenceWatch(180_000, 0);
    const devices = [dev('a'), dev('b', 'unknown'), { ...dev('c'), collectorId: null }];
    expect(w.due(devices, 179_999)).toEqual([]);
    const first = w.due(devices, 180_000);
    expect(first.map((d) => [d.deviceId, d.silentSeconds])).toEqual([['a', 180]]);
    expect(w.due(devices, 200_000)).toEqual([]);
    expect(w.due(devices, 240_000).map((d) => d.deviceId)).toEqual(['a']);
    expect(w.silentCollectors(devices, 240_000)).toEqual([C]);
  });

  it('forgets the silence when the collector speaks, but not for its own offline events', () => {
    const w = new SilenceWatch(10_000, 0);
    const devices = [dev('a')];
    w.saw(status('a', 'online', new Date(5_000).toISOString()), 5_000);
    expect(w.due(devices, 14_999)).toEqual([]);
    expect(w.takeHeardCollectors()).toEqual(new Map([[C, 5_000]]));
    const [mark] = w.due(devices, 15_000);
    w.saw(status('a', 'offline', new Date(mark!.at).toISOString()), 15_100);
    expect(w.due(devices, 25_000)).toHaveLength(1);
    expect(w.takeHeardCollectors().size).toBe(0);
    expect(w.silentCollectors(devices, 25_000)).toEqual([C]);
  });

  it('dates an offline event after the newest event of the device when its collector clock runs ahead', () => {
    const w = new SilenceWatch(1_000, 0);
    const ahead = new Date(3_600_000).toISOString();
    const [a] = w.due([dev('a', 'online', ahead)], 2_000);
    const [b] = w.due([dev('a', 'online', ahead)], 4_000);
    expect(a!.at).toBe(3_600_001);
    expect(b!.at).toBe(3_600_002);
  });
});
