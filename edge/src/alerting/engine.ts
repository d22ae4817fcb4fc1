// The alert engine the TenantHub runs after each committed batch of device events: evaluates the tenant's
// rules per device with hysteresis and returns what changed. Pure and deterministic (time comes from the
// events and the caller), and its state is plain JSON so the Durable Object can keep it in storage.
import type { AlertComparison, AlertMetric, AlertSeverity, DeviceEvent } from '@tod/contracts';

export interface EngineRule {
  id: string;
  name: string;
  metric: AlertMetric;
  comparison: AlertComparison | null;
  threshold: number | null;
  durationSeconds: number;
  severity: AlertSeverity;
  scope: 'all' | 'group' | 'tag' | 'device';
  scopeTargetId: string | null;
  interfaceName: string | null;
  fireAfter: number;
  clearAfter: number;
  enabled: boolean;
}

/** Group and tag membership of the tenant's devices, for rule scopes. */
export interface Membership {
  groups: Record<string, readonly string[]>;
  tags: Record<string, readonly string[]>;
}

export interface AlertTransition {
  kind: 'fired' | 'resolved';
  ruleId: string;
  ruleName: string;
  metric: AlertMetric;
  severity: AlertSeverity;
  deviceId: string;
  /** Interface name for interface metrics, '' otherwise. */
  subject: string;
  /** The sample that made the change (null for device_offline and for a rule that went away). */
  value: number | null;
  threshold: number | null;
  /** When it happened: the event's time, or `now` for a rule that went away. */
  at: string;
  /** Why a resolve happened: the condition cleared, or the rule was removed/disabled/rescoped. */
  reason: 'breach' | 'cleared' | 'rule_removed';
}

interface KeyState {
  firing: boolean;
  breaches: number;
  clears: number;
  /** Time of the first sample of the current run of breaches. */
  breachSince: string | null;
  /** Time of the newest sample applied (older or equal samples are replays and are ignored). */
  lastAt: string;
  lastValue: number | null;
}

export interface EngineState {
  v: 1;
  keys: Record<string, KeyState>;
}

/** The statuses a device_offline rule counts as down; `degraded` still answers, so it is up. */
const DOWN = new Set(['unreachable', 'auth_failed', 'tls_failed']);

interface Sample {
  subject: string;
  /** For device_offline: 1 down, 0 up. */
  value: number;
}

/** What one event says about one rule's metric (none when the event is of another kind or lacks it). */
export function samplesFor(rule: EngineRule, ev: DeviceEvent): Sample[] {
  switch (rule.metric) {
    case 'device_offline':
      return ev.kind === 'status' ? [{ subject: '', value: DOWN.has(ev.data.status) ? 1 : 0 }] : [];
    case 'cpu_load':
      return ev.kind === 'resource' ? [{ subject: '', value: ev.data.cpuLoad }] : [];
    case 'memory_used_pct':
      return ev.kind === 'resource' && ev.data.totalMemory > 0
        ? [{ subject: '', value: (100 * (ev.data.totalMemory - ev.data.freeMemory)) / ev.data.totalMemory }]
        : [];
    case 'disk_used_pct':
      return ev.kind === 'resource' && ev.data.totalHdd > 0
        ? [{ subject: '', value: (100 * (ev.data.totalHdd - ev.data.freeHdd)) / ev.data.totalHdd }]
        : [];
    case 'temperature': {
      if (ev.kind !== 'health') return [];
      const t = ev.data.temperatureC ?? ev.data.cpuTemperatureC;
      return t === undefined ? [] : [{ subject: '', value: t }];
    }
    case 'voltage':
      return ev.kind === 'health' && ev.data.voltage !== undefined
        ? [{ subject: '', value: ev.data.voltage }]
        : [];
    case 'interface_rx_bps':
    case 'interface_tx_bps': {
      if (ev.kind !== 'interfaces') return [];
      const out: Sample[] = [];
      for (const i of ev.data.interfaces) {
        if (rule.interfaceName !== null && i.name !== rule.interfaceName) continue;
        const v = rule.metric === 'interface_rx_bps' ? i.rxBps : i.txBps;
        if (v !== undefined) out.push({ subject: i.name, value: v });
      }
      return out;
    }
    case 'wireless_signal': {
      // The weakest client decides: a rule "signal below -75 dBm" fires when any client is that weak.
      if (ev.kind !== 'wireless') return [];
      let worst: number | undefined;
      for (const c of ev.data.clients) {
        if (rule.interfaceName !== null && c.interface !== rule.interfaceName) continue;
        if (c.signalDbm !== undefined && (worst === undefined || c.signalDbm < worst)) worst = c.signalDbm;
      }
      return worst === undefined ? [] : [{ subject: rule.interfaceName ?? '', value: worst }];
    }
  }
}

export function breaches(rule: EngineRule, value: number): boolean {
  if (rule.metric === 'device_offline') return value === 1;
  const t = rule.threshold ?? 0;
  switch (rule.comparison) {
    case 'gt':
      return value > t;
    case 'gte':
      return value >= t;
    case 'lt':
      return value < t;
    case 'lte':
      return value <= t;
    case 'eq':
      return value === t;
    case 'ne':
      return value !== t;
    default:
      return false;
  }
}

export function ruleApplies(rule: EngineRule, deviceId: string, membership: Membership): boolean {
  switch (rule.scope) {
    case 'all':
      return true;
    case 'device':
      return rule.scopeTargetId === deviceId;
    case 'group':
      return (membership.groups[deviceId] ?? []).includes(rule.scopeTargetId ?? '');
    case 'tag':
      return (membership.tags[deviceId] ?? []).includes(rule.scopeTargetId ?? '');
  }
}

const keyOf = (ruleId: string, deviceId: string, subject: string) => `${ruleId}|${deviceId}|${subject}`;
const splitKey = (key: string) => {
  const [ruleId = '', deviceId = '', ...rest] = key.split('|');
  return { ruleId, deviceId, subject: rest.join('|') };
};

export class AlertEngine {
  private rules: EngineRule[] = [];
  private membership: Membership = { groups: {}, tags: {} };
  private keys = new Map<string, KeyState>();

  constructor(state?: EngineState) {
    if (state) for (const [k, v] of Object.entries(state.keys)) this.keys.set(k, { ...v });
  }

  static fromJSON(state: unknown): AlertEngine {
    if (
      typeof state === 'object' &&
      state !== null &&
      (state as EngineState).v === 1 &&
      typeof (state as EngineState).keys === 'object'
    ) {
      return new AlertEngine(state as EngineState);
    }
    return new AlertEngine();
  }

  toJSON(): EngineState {
    return { v: 1, keys: Object.fromEntries([...this.keys].map(([k, v]) => [k, { ...v }])) };
  }

  /** Which alerts the engine holds open right now. */
  firing(): { ruleId: string; deviceId: string; subject: string }[] {
    return [...this.keys].filter(([, s]) => s.firing).map(([k]) => splitKey(k));
  }

  /** Replaces the rules and the membership. State of a rule that is gone, disabled or no longer scoped to a
   * device is dropped; the ones that were firing come back as resolved transitions (reason rule_removed). */
  setRules(rules: readonly EngineRule[], membership: Membership, now: Date): AlertTransition[] {
    const byId = new Map(rules.map((r) => [r.id, r]));
    const previous = new Map(this.rules.map((r) => [r.id, r]));
    this.rules = rules.filter((r) => r.enabled).map((r) => ({ ...r }));
    this.membership = membership;
    const out: AlertTransition[] = [];
    for (const [key, st] of [...this.keys]) {
      const { ruleId, deviceId, subject } = splitKey(key);
      const rule = byId.get(ruleId);
      const old = previous.get(ruleId) ?? rule;
      const changedMeaning =
        rule &&
        old &&
        (rule.metric !== old.metric ||
          rule.comparison !== old.comparison ||
          rule.threshold !== old.threshold ||
          rule.interfaceName !== old.interfaceName);
      const keep = rule?.enabled && ruleApplies(rule, deviceId, membership) && !changedMeaning;
      if (keep) continue;
      this.keys.delete(key);
      if (st.firing && old) {
        out.push({
          kind: 'resolved',
          ruleId,
          ruleName: old.name,
          metric: old.metric,
          severity: old.severity,
          deviceId,
          subject,
          value: null,
          threshold: old.threshold,
          at: now.toISOString(),
          reason: 'rule_removed',
        });
      }
    }
    return out;
  }

  /** Applies a batch of validated events in order; returns the alerts that fired or resolved. */
  ingest(events: readonly DeviceEvent[], now: Date): AlertTransition[] {
    const out: AlertTransition[] = [];
    for (const ev of events) {
      for (const rule of this.rules) {
        if (!ruleApplies(rule, ev.deviceId, this.membership)) continue;
        for (const s of samplesFor(rule, ev)) {
          const t = this.apply(rule, ev.deviceId, s, ev.at, now);
          if (t) out.push(t);
        }
      }
    }
    return out;
  }

  /** Forgets a device's state (the device was deleted). */
  forgetDevice(deviceId: string): void {
    for (const key of [...this.keys.keys()]) if (splitKey(key).deviceId === deviceId) this.keys.delete(key);
  }

  private apply(
    rule: EngineRule,
    deviceId: string,
    s: Sample,
    at: string,
    now: Date,
  ): AlertTransition | null {
    const key = keyOf(rule.id, deviceId, s.subject);
    const atMs = Date.parse(at);
    const sampleAt = Number.isFinite(atMs) ? new Date(atMs).toISOString() : now.toISOString();
    let st = this.keys.get(key);
    if (st && Date.parse(sampleAt) <= Date.parse(st.lastAt)) return null;
    if (!st) {
      st = { firing: false, breaches: 0, clears: 0, breachSince: null, lastAt: sampleAt, lastValue: null };
      this.keys.set(key, st);
    }
    st.lastAt = sampleAt;
    st.lastValue = s.value;
    const base = {
      ruleId: rule.id,
      ruleName: rule.name,
      metric: rule.metric,
      severity: rule.severity,
      deviceId,
      subject: s.subject,
      value: rule.metric === 'device_offline' ? null : s.value,
      threshold: rule.threshold,
      at: sampleAt,
    };
    if (breaches(rule, s.value)) {
      st.breaches += 1;
      st.clears = 0;
      st.breachSince ??= sampleAt;
      const lasted = (Date.parse(sampleAt) - Date.parse(st.breachSince)) / 1000;
      if (!st.firing && st.breaches >= rule.fireAfter && lasted >= rule.durationSeconds) {
        st.firing = true;
        return { kind: 'fired', ...base, reason: 'breach' };
      }
      return null;
    }
    st.clears += 1;
    st.breaches = 0;
    st.breachSince = null;
    if (st.firing && st.clears >= rule.clearAfter) {
      st.firing = false;
      return { kind: 'resolved', ...base, reason: 'cleared' };
    }
    // A quiet key that is not firing needs no memory beyond replay protection.
    return null;
  }
}
