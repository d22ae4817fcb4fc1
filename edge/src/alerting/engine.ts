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

/** Hysteresis state of one rule on one device (and subject). Kept only while it matters: firing, or in a
 * run of breaches; a quiet key is dropped, so a healthy fleet costs almost nothing to store. */
interface KeyState {
  firing: boolean;
  breaches: number;
  clears: number;
  /** Epoch ms of the first sample of the current run of breaches. */
  breachSince: number | null;
}

/** One device's state: its rule keys (`<ruleId>|<subject>`) and, per event kind, the time of the newest
 * event applied (older or equal events are replays and are ignored). */
export interface DeviceState {
  seen: Partial<Record<string, number>>;
  keys: Record<string, KeyState>;
}

export interface EngineState {
  v: 2;
  devices: Record<string, DeviceState>;
}

/** The statuses a device_offline rule counts as down; `degraded` still answers, so it is up. `offline` comes
 * from the hub when the device's collector went silent. */
const DOWN = new Set(['unreachable', 'auth_failed', 'tls_failed', 'offline']);

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

const keyOf = (ruleId: string, subject: string) => `${ruleId}|${subject}`;
const splitKey = (key: string) => {
  const bar = key.indexOf('|');
  return { ruleId: key.slice(0, bar), subject: key.slice(bar + 1) };
};

function cloneDevice(d: DeviceState): DeviceState {
  const keys: Record<string, KeyState> = {};
  for (const [k, v] of Object.entries(d.keys)) keys[k] = { ...v };
  return { seen: { ...d.seen }, keys };
}

export class AlertEngine {
  private rules: EngineRule[] = [];
  private membership: Membership = { groups: {}, tags: {} };
  private devices = new Map<string, DeviceState>();
  /** Devices whose state changed since the last takeDirty(). */
  private dirty = new Set<string>();

  constructor(state?: EngineState) {
    if (state) for (const [id, d] of Object.entries(state.devices)) this.devices.set(id, cloneDevice(d));
  }

  static fromJSON(state: unknown): AlertEngine {
    const s = state as EngineState | null;
    if (typeof s === 'object' && s !== null && s.v === 2 && typeof s.devices === 'object' && s.devices) {
      return new AlertEngine(s);
    }
    return new AlertEngine();
  }

  /** Builds an engine from per-device entries (as stored by a hub, one storage key per device). */
  static fromDevices(entries: Iterable<[string, DeviceState]>): AlertEngine {
    const e = new AlertEngine();
    for (const [id, d] of entries) e.devices.set(id, cloneDevice(d));
    return e;
  }

  toJSON(): EngineState {
    return { v: 2, devices: Object.fromEntries([...this.devices].map(([id, d]) => [id, cloneDevice(d)])) };
  }

  /** The devices changed since the last call, with their new state (null: nothing left to keep). Lets a hub
   * write only what changed, one storage key per device. */
  takeDirty(): Map<string, DeviceState | null> {
    const out = new Map<string, DeviceState | null>();
    for (const id of this.dirty) {
      const d = this.devices.get(id);
      out.set(id, d ? cloneDevice(d) : null);
    }
    this.dirty.clear();
    return out;
  }

  /** The state of some devices (null: none), to put back with restoreDevices() if a batch must be undone. */
  snapshotDevices(deviceIds: Iterable<string>): Map<string, DeviceState | null> {
    const out = new Map<string, DeviceState | null>();
    for (const id of deviceIds) {
      const d = this.devices.get(id);
      out.set(id, d ? cloneDevice(d) : null);
    }
    return out;
  }

  restoreDevices(snapshot: Map<string, DeviceState | null>): void {
    for (const [id, d] of snapshot) {
      if (d) this.devices.set(id, cloneDevice(d));
      else this.devices.delete(id);
      this.dirty.add(id);
    }
  }

  /** Which alerts the engine holds open right now. */
  firing(): { ruleId: string; deviceId: string; subject: string }[] {
    const out: { ruleId: string; deviceId: string; subject: string }[] = [];
    for (const [deviceId, d] of this.devices) {
      for (const [k, st] of Object.entries(d.keys)) if (st.firing) out.push({ ...splitKey(k), deviceId });
    }
    return out;
  }

  /** Replaces the rules and the membership. State of a rule that is gone, disabled or no longer scoped to a
   * device is dropped; the ones that were firing come back as resolved transitions (reason rule_removed). */
  setRules(rules: readonly EngineRule[], membership: Membership, now: Date): AlertTransition[] {
    const byId = new Map(rules.map((r) => [r.id, r]));
    const previous = new Map(this.rules.map((r) => [r.id, r]));
    this.rules = rules.filter((r) => r.enabled).map((r) => ({ ...r }));
    this.membership = membership;
    const out: AlertTransition[] = [];
    for (const [deviceId, d] of this.devices) {
      for (const [key, st] of Object.entries(d.keys)) {
        const { ruleId, subject } = splitKey(key);
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
        delete d.keys[key];
        this.dirty.add(deviceId);
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
    }
    return out;
  }

  /** Applies a batch of validated events in order; returns the alerts that fired or resolved. */
  ingest(events: readonly DeviceEvent[], now: Date): AlertTransition[] {
    const out: AlertTransition[] = [];
    for (const ev of events) {
      const parsed = Date.parse(ev.at);
      const at = Number.isFinite(parsed) ? parsed : now.getTime();
      let d = this.devices.get(ev.deviceId);
      const last = d?.seen[ev.kind];
      if (last !== undefined && at <= last) continue;
      if (!d) {
        d = { seen: {}, keys: {} };
        this.devices.set(ev.deviceId, d);
      }
      d.seen[ev.kind] = at;
      this.dirty.add(ev.deviceId);
      for (const rule of this.rules) {
        if (!ruleApplies(rule, ev.deviceId, this.membership)) continue;
        for (const s of samplesFor(rule, ev)) {
          const t = this.apply(rule, ev.deviceId, d, s, at);
          if (t) out.push(t);
        }
      }
    }
    return out;
  }

  /** Forgets a device's state (the device was deleted). */
  forgetDevice(deviceId: string): void {
    if (this.devices.delete(deviceId)) this.dirty.add(deviceId);
  }

  private apply(
    rule: EngineRule,
    deviceId: string,
    d: DeviceState,
    s: Sample,
    at: number,
  ): AlertTransition | null {
    const key = keyOf(rule.id, s.subject);
    const breach = breaches(rule, s.value);
    let st = d.keys[key];
    if (!st) {
      // Nothing to remember about a clear sample on a quiet key.
      if (!breach) return null;
      st = { firing: false, breaches: 0, clears: 0, breachSince: null };
      d.keys[key] = st;
    }
    const base = {
      ruleId: rule.id,
      ruleName: rule.name,
      metric: rule.metric,
      severity: rule.severity,
      deviceId,
      subject: s.subject,
      value: rule.metric === 'device_offline' ? null : s.value,
      threshold: rule.threshold,
      at: new Date(at).toISOString(),
    };
    if (breach) {
      st.breaches += 1;
      st.clears = 0;
      st.breachSince ??= at;
      const lasted = (at - st.breachSince) / 1000;
      if (!st.firing && st.breaches >= rule.fireAfter && lasted >= rule.durationSeconds) {
        st.firing = true;
        return { kind: 'fired', ...base, reason: 'breach' };
      }
      return null;
    }
    st.clears += 1;
    st.breaches = 0;
    st.breachSince = null;
    if (!st.firing) {
      delete d.keys[key];
      return null;
    }
    if (st.clears >= rule.clearAfter) {
      delete d.keys[key];
      return { kind: 'resolved', ...base, reason: 'cleared' };
    }
    return null;
  }
}
