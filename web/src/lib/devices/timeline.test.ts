import type { Alert } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { alertEntries, liveEntry, mergeTimeline, streamedAlertEntries } from './timeline';

const alert: Alert = {
  id: '3f1d0d2e-7f0a-4b8e-9a43-111111111111',
  ruleId: null,
  ruleName: 'CPU high',
  metric: 'cpu_load',
  severity: 'critical',
  deviceId: '3f1d0d2e-7f0a-4b8e-9a43-222222222222',
  subject: 'CPU 97% > 90%',
  state: 'firing',
  value: 97,
  threshold: 90,
  startedAt: '2026-11-23T10:00:00.000Z',
  endedAt: null,
  suppressed: false,
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolution: null,
  resolvedBy: null,
};

describe('device timeline', () => {
  it('lists an alert once however often it arrives, with its acknowledgement and resolution', () => {
    let t = mergeTimeline([], alertEntries(alert));
    expect(t.map((e) => e.title)).toEqual(['critical alert: CPU high']);
    const later = {
      ...alert,
      acknowledgedAt: '2026-11-23T10:05:00.000Z',
      state: 'resolved' as const,
      endedAt: '2026-11-23T10:10:00.000Z',
      resolution: 'auto' as const,
    };
    t = mergeTimeline(t, streamedAlertEntries({ kind: 'resolved', alert: later })!);
    t = mergeTimeline(t, alertEntries(later));
    expect(t.map((e) => e.title)).toEqual([
      'Alert resolved: CPU high',
      'Alert acknowledged: CPU high',
      'critical alert: CPU high',
    ]);
    expect(streamedAlertEntries({ kind: 'fired', alert: { id: 'nope' } })).toBeNull();
  });

  it('records a status change, not a repeated status', () => {
    const e = {
      v: 1 as const,
      id: 'evt-00000001',
      tenantId: alert.deviceId,
      deviceId: alert.deviceId,
      collectorId: alert.deviceId,
      at: '2026-11-23T10:00:00.000Z',
      kind: 'status' as const,
      data: { status: 'unreachable' as const, reason: 'timeout', consecutiveFailures: 1 },
    };
    expect(liveEntry(e, 'online')).toMatchObject({
      title: 'Status: unreachable',
      detail: 'timeout',
      tone: 'bad',
    });
    expect(liveEntry(e, 'unreachable')).toBeNull();
  });

  it('keeps the newest entries first and at most the limit', () => {
    const mk = (n: number) => ({
      key: `k${n}`,
      at: n,
      kind: 'config' as const,
      title: `t${n}`,
      tone: 'muted' as const,
    });
    const t = mergeTimeline([mk(1), mk(3)], [mk(2), mk(4)], 3);
    expect(t.map((e) => e.key)).toEqual(['k4', 'k3', 'k2']);
  });
});
