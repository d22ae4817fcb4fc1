// One simulated RouterOS device: its lazily built config tree, live values, users, and lifecycle (reboot, upgrade).

import type { Clock, TimerHandle } from './clock';
import {
  type BoardPersonality,
  formatDate,
  formatDateTime,
  formatDuration,
  formatTime,
  type LoginMode,
  nextVersion,
  type VersionTraits,
  versionTraits,
} from './personality';
import type { Row } from './query';

export interface PeerLink {
  kind: 'ether' | 'radio';
  localInterface: string;
  remote: Device;
  remoteInterface: string;
}

export interface DeviceOptions {
  index: number;
  board: BoardPersonality;
  clock: Clock;
  identity?: string;
  version?: string;
  loginMode?: LoginMode;
  emptyReply?: boolean;
  adminPassword?: string;
  rebootDurationMs?: number;
  /** Final status of check-for-updates, e.g. 'ERROR: could not resolve dns name'. */
  updateStatus?: string;
  /** Extra API users created with the initial config. */
  users?: readonly { name: string; password: string; group: string }[];
}

export interface Table {
  rows: Row[];
  nextId: number;
}

export type ChangeListener = (table: string, row: Row, dead: boolean) => void;

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');

/** Deterministic per-device pseudo-random in [0,1) so fleets are reproducible. */
export function seeded(seed: number): number {
  let x = (seed ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 0x100000000;
}

export class Device {
  readonly index: number;
  readonly board: BoardPersonality;
  readonly clock: Clock;
  version: string;
  traits: VersionTraits;
  loginModeOverride?: LoginMode;
  emptyReplyOverride?: boolean;
  readonly serial: string;
  readonly softwareId: string;
  readonly rebootDurationMs: number;
  updateStatus: string;
  peers: PeerLink[] = [];
  bootAt: number;
  up = true;
  pendingVersion?: string;
  private state?: Map<string, Table>;
  private readonly initialIdentity: string;
  private readonly adminPassword: string;
  private readonly extraUsers: readonly { name: string; password: string; group: string }[];
  private listeners = new Set<ChangeListener>();
  private timers = new Map<string, TimerHandle>();
  private rebootTimer?: TimerHandle;
  private downListeners = new Set<() => void>();
  readonly bootListeners = new Set<() => void>();

  constructor(o: DeviceOptions) {
    this.index = o.index;
    this.board = o.board;
    this.clock = o.clock;
    this.version = o.version ?? o.board.version;
    this.traits = versionTraits(this.version);
    this.loginModeOverride = o.loginMode;
    this.emptyReplyOverride = o.emptyReply;
    this.serial = `${o.board.serialPrefix}${hex(0x10000 + o.index * 7919, 6)}`.slice(0, 12);
    this.softwareId = `${hex(((o.index * 2654435761) >>> 16) & 0xffff, 4)}-${hex(o.index & 0xffff, 4)}`;
    this.initialIdentity = o.identity ?? `sim-${String(o.index).padStart(5, '0')}`;
    this.adminPassword = o.adminPassword ?? 'admin';
    this.extraUsers = o.users ?? [];
    this.rebootDurationMs = o.rebootDurationMs ?? 2000;
    this.updateStatus = o.updateStatus ?? 'New version is available';
    this.bootAt = o.clock.now() - Math.floor(seeded(o.index) * 30 * 86400000);
  }

  get loginMode(): LoginMode {
    return this.loginModeOverride ?? this.traits.loginMode;
  }
  get emptyReply(): boolean {
    return this.emptyReplyOverride ?? this.traits.emptyReply;
  }
  get identity(): string {
    return this.state ? (this.table('identity').rows[0]?.name ?? this.initialIdentity) : this.initialIdentity;
  }
  get uptimeMs(): number {
    return Math.max(0, this.clock.now() - this.bootAt);
  }
  get stateBuilt(): boolean {
    return this.state !== undefined;
  }

  /** MAC of an interface slot: 48:A9:8A + 3 bytes from the device index and slot, upper-case as RouterOS prints. */
  mac(slot: number): string {
    const v = (this.index * 64 + slot) & 0xffffff;
    return `48:A9:8A:${hex((v >> 16) & 0xff, 2)}:${hex((v >> 8) & 0xff, 2)}:${hex(v & 0xff, 2)}`;
  }

  date(ms: number): string {
    return formatDateTime(ms, this.traits.isoDates);
  }

  table(name: string): Table {
    const s = this.tree();
    let t = s.get(name);
    if (!t) {
      t = { rows: [], nextId: 1 };
      s.set(name, t);
    }
    return t;
  }

  newId(t: Table): string {
    return `*${(t.nextId++).toString(16).toUpperCase()}`;
  }

  insert(tableName: string, row: Row): Row {
    const t = this.table(tableName);
    const full: Row = { '.id': this.newId(t), ...row };
    t.rows.push(full);
    this.notify(tableName, full, false);
    return full;
  }

  onChange(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(table: string, row: Row, dead: boolean): void {
    for (const l of this.listeners) l(table, row, dead);
  }

  onDown(fn: () => void): () => void {
    this.downListeners.add(fn);
    return () => this.downListeners.delete(fn);
  }

  log(topics: string, message: string): void {
    const t = this.table('log');
    const row: Row = { '.id': this.newId(t), time: formatTime(this.clock.now()), topics, message };
    t.rows.push(row);
    if (t.rows.length > 200) t.rows.splice(0, t.rows.length - 200);
    this.notify('log', row, false);
  }

  recordHistory(action: string, by: string): void {
    const t = this.table('history');
    t.rows.push({
      '.id': this.newId(t),
      action,
      by,
      policy: 'write',
      time: this.date(this.clock.now()),
      undoable: 'true',
    });
    if (t.rows.length > 100) t.rows.splice(0, t.rows.length - 100);
  }

  checkPassword(name: string, password: string): Row | undefined {
    const u = this.table('user').rows.find((r) => r.name === name && r.disabled !== 'true');
    if (!u || (u.password ?? '') !== password) return undefined;
    return u;
  }

  userByName(name: string): Row | undefined {
    return this.table('user').rows.find((r) => r.name === name && r.disabled !== 'true');
  }

  policiesOf(user: Row): Set<string> {
    const g = this.table('group').rows.find((r) => r.name === user.group);
    return new Set((g?.policy ?? '').split(',').filter((p) => p && !p.startsWith('!')));
  }

  /** Take the device down now; it boots again after rebootDurationMs (clock time), with uptime reset. */
  reboot(reason = 'system,info'): void {
    if (!this.up) return;
    this.log(reason, 'system rebooted');
    this.up = false;
    for (const fn of [...this.downListeners]) fn();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.rebootTimer = this.clock.setTimer(this.rebootDurationMs, () => this.boot());
  }

  private boot(): void {
    this.rebootTimer = undefined;
    if (this.pendingVersion) {
      this.version = this.pendingVersion;
      this.traits = versionTraits(this.version);
      this.pendingVersion = undefined;
      if (this.state) this.refreshVersionTables();
    }
    this.bootAt = this.clock.now();
    this.up = true;
    if (this.state) {
      const u = this.table('update').rows[0];
      if (u) {
        u['installed-version'] = this.version;
        delete u['latest-version'];
        u.status = 'System is already up to date';
      }
      this.armSchedulers(true);
    }
    for (const fn of [...this.bootListeners]) fn();
  }

  shutdownTimers(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.rebootTimer?.cancel();
  }

  latestVersion(): string {
    return nextVersion(this.version);
  }

  // ---- scheduler -------------------------------------------------------------------------------------------

  /** Script runner installed by the command layer (keeps device free of the interpreter). */
  runScript: (source: string, by: string) => void = () => {};

  armScheduler(row: Row, atBoot = false): void {
    const id = row['.id'] ?? '';
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
    if (row.disabled === 'true' || !this.up) return;
    const interval = parseDurationMs(row.interval ?? '0s');
    const now = this.clock.now();
    let first: number;
    if (row['start-time'] === 'startup') {
      if (!atBoot) return;
      first = now + 3000;
    } else {
      const start = parseDeviceDateTime(row['start-date'] ?? '', row['start-time'] ?? '') ?? now;
      if (start > now) first = start;
      else if (interval > 0) first = start + (Math.floor((now - start) / interval) + 1) * interval;
      else return;
    }
    row['next-run'] = this.date(first);
    const fire = () => {
      this.timers.delete(id);
      if (!this.up || !this.table('scheduler').rows.includes(row) || row.disabled === 'true') return;
      row['run-count'] = String(Number(row['run-count'] ?? '0') + 1);
      if (interval > 0) {
        row['next-run'] = this.date(this.clock.now() + interval);
        this.timers.set(id, this.clock.setTimer(interval, fire));
      } else delete row['next-run'];
      const ev = row['on-event'] ?? '';
      const script = this.table('script').rows.find((s) => s.name === ev);
      const source = script ? (script.source ?? '') : ev;
      if (script) {
        script['run-count'] = String(Number(script['run-count'] ?? '0') + 1);
        script['last-started'] = this.date(this.clock.now());
      }
      try {
        this.runScript(source, row.owner ?? 'admin');
      } catch {
        // the failure is already in /log, as on RouterOS; a scheduler never takes the device down
      }
    };
    this.timers.set(id, this.clock.setTimer(first - now, fire));
  }

  disarmScheduler(id: string): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }

  private armSchedulers(atBoot: boolean): void {
    for (const r of this.table('scheduler').rows) this.armScheduler(r, atBoot);
  }

  // ---- state tree ------------------------------------------------------------------------------------------

  private tree(): Map<string, Table> {
    if (!this.state) {
      this.state = new Map();
      buildInitialConfig(this, this.initialIdentity, this.adminPassword);
      for (const u of this.extraUsers)
        this.insert('user', {
          name: u.name,
          group: u.group,
          password: u.password,
          address: '',
          disabled: 'false',
        });
    }
    return this.state;
  }

  snapshot(): string {
    const obj: Record<string, Table> = {};
    for (const [k, v] of this.tree()) if (k !== 'log' && k !== 'history' && k !== 'file') obj[k] = v;
    return JSON.stringify(obj);
  }

  restore(snapshot: string): void {
    const parsed = JSON.parse(snapshot) as Record<string, Table>;
    const s = this.tree();
    // A table created after the save (e.g. the first scheduler entry) did not exist then: it ends empty.
    for (const k of [...s.keys()])
      if (k !== 'log' && k !== 'history' && k !== 'file' && !(k in parsed)) s.set(k, { rows: [], nextId: 1 });
    for (const [k, v] of Object.entries(parsed)) s.set(k, { rows: v.rows, nextId: v.nextId });
  }

  private refreshVersionTables(): void {
    for (const p of this.table('package').rows) p.version = this.version;
    const rb = this.table('routerboard').rows[0];
    if (rb) rb['upgrade-firmware'] = this.version;
  }
}

export function parseDurationMs(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const hms = /^(\d+):(\d{2}):(\d{2})$/.exec(text);
  if (hms) return ((Number(hms[1]) * 60 + Number(hms[2])) * 60 + Number(hms[3])) * 1000;
  const units: Record<string, number> = { w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|w|d|h|m|s)/g)) total += Number(m[1]) * (units[m[2] ?? 's'] ?? 0);
  return total;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Both RouterOS date spellings (jan/12/2025 and 2025-01-12) with HH:MM:SS, as UTC ms. */
export function parseDeviceDateTime(date: string, time: string): number | undefined {
  let y: number;
  let mo: number;
  let d: number;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const old = /^([a-z]{3})\/(\d{2})\/(\d{4})$/i.exec(date);
  if (iso) [y, mo, d] = [Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])];
  else if (old) [y, mo, d] = [Number(old[3]), MONTHS.indexOf((old[1] ?? '').toLowerCase()), Number(old[2])];
  else if (date === '' && time !== '') return undefined;
  else return undefined;
  const t = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(time || '00:00:00');
  if (!t || mo < 0) return undefined;
  return Date.UTC(y, mo, d, Number(t[1]), Number(t[2]), Number(t[3] ?? 0));
}

function buildInitialConfig(dev: Device, identity: string, adminPassword: string): void {
  const b = dev.board;
  const now = dev.clock.now();
  dev.insert('identity', { name: identity });
  dev.insert('resource', {});
  dev.insert('routerboard', {});
  dev.insert('clock', { 'time-zone-name': 'UTC', 'time-zone-autodetect': 'true' });
  dev.insert('update', {
    channel: b.channel,
    'installed-version': dev.version,
    status: 'System is already up to date',
  });
  dev.insert('dns', { servers: '1.1.1.1,8.8.8.8', 'allow-remote-requests': 'true', 'cache-size': '2048KiB' });
  for (const [name, policy] of [
    [
      'read',
      'local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy',
    ],
    [
      'write',
      'local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!policy',
    ],
    [
      'full',
      'local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api',
    ],
  ] as const)
    dev.insert('group', { name, policy, skin: 'default' });
  dev.insert('user', {
    name: 'admin',
    group: 'full',
    password: adminPassword,
    address: '',
    disabled: 'false',
    'last-logged-in': dev.date(now),
  });
  for (const [name, port] of [
    ['telnet', '23'],
    ['ftp', '21'],
    ['www', '80'],
    ['ssh', '22'],
    ['www-ssl', '443'],
    ['api', '8728'],
    ['winbox', '8291'],
    ['api-ssl', '8729'],
  ] as const)
    dev.insert('service', {
      name,
      port,
      address: '',
      disabled: name === 'telnet' || name === 'ftp' ? 'true' : 'false',
      invalid: 'false',
      ...(name.endsWith('-ssl') ? { certificate: 'none', 'tls-version': 'any' } : {}),
    });
  for (const [topics, action] of [
    ['info', 'memory'],
    ['error', 'memory'],
    ['warning', 'memory'],
    ['critical', 'echo'],
  ] as const)
    dev.insert('logging', {
      topics,
      action,
      prefix: '',
      disabled: 'false',
      invalid: 'false',
      default: 'true',
    });

  const pkgs =
    dev.traits.major >= 7
      ? ['routeros', ...(b.radio === 'wifi' ? ['wifi-qcom'] : b.radio === 'wireless' ? ['wireless'] : [])]
      : ['system', 'dhcp', 'ppp', 'routing', 'security', ...(b.radio === 'wireless' ? ['wireless'] : [])];
  for (const name of pkgs)
    dev.insert('package', {
      name,
      version: dev.version,
      'build-time': dev.date(now - 90 * 86400000),
      scheduled: '',
      disabled: 'false',
    });

  let slot = 0;
  for (let i = 1; i <= b.ethernetPorts; i++) addIface(dev, `ether${i}`, 'ether', slot++, i === 1 || i === 2);
  for (let i = 1; i <= b.sfpPorts; i++) addIface(dev, `sfp-sfpplus${i}`, 'ether', slot++, i === 1);
  if (b.radio === 'wifi' && dev.traits.wifiMenu) {
    addIface(dev, 'wifi1', 'wifi', slot++, true, {
      'configuration.ssid': 'tod-sim',
      'configuration.mode': 'ap',
      'security.passphrase': 'wifi-secret-1',
    });
    addIface(dev, 'wifi2', 'wifi', slot++, true, {
      'configuration.ssid': 'tod-sim',
      'configuration.mode': 'ap',
      'security.passphrase': 'wifi-secret-1',
    });
  } else if (b.radio !== 'none') {
    addIface(dev, 'wlan1', 'wlan', slot++, true, {
      ssid: 'tod-sim',
      mode: b.role === 'station' ? 'station-bridge' : 'ap-bridge',
      band: '5ghz-a/n/ac',
      frequency: '5180',
      'channel-width': '20/40/80mhz-XXXX',
      'security-profile': 'default',
    });
    dev.insert('wireless-sec', {
      name: 'default',
      mode: 'dynamic-keys',
      'authentication-types': 'wpa2-psk',
      'wpa2-pre-shared-key': 'wireless-secret-1',
      default: 'true',
    });
  }
  const bridgeSlot = slot++;
  addIface(dev, 'bridge', 'bridge', bridgeSlot, true, {
    mtu: 'auto',
    'protocol-mode': 'rstp',
    'vlan-filtering': 'false',
  });
  dev.insert('bridge-port', {
    interface: b.ethernetPorts > 1 ? 'ether2' : 'ether1',
    bridge: 'bridge',
    pvid: '1',
    disabled: 'false',
  });

  const lanNet = `192.168.${(dev.index % 250) + 1}`;
  const wan = `10.${(dev.index >> 8) & 0xff}.${dev.index & 0xff}`;
  dev.insert('ip-address', {
    address: `${lanNet}.1/24`,
    network: `${lanNet}.0`,
    interface: 'bridge',
    'actual-interface': 'bridge',
    invalid: 'false',
    dynamic: 'false',
    disabled: 'false',
    comment: 'defconf',
  });
  dev.insert('ip-address', {
    address: `${wan}.2/30`,
    network: `${wan}.0`,
    interface: 'ether1',
    'actual-interface': 'ether1',
    invalid: 'false',
    dynamic: 'false',
    disabled: 'false',
  });
  dev.insert('ip-route', {
    'dst-address': '0.0.0.0/0',
    gateway: `${wan}.1`,
    distance: '1',
    dynamic: 'false',
    active: 'true',
    static: 'true',
    disabled: 'false',
  });
  dev.insert('pool', { name: 'dhcp', ranges: `${lanNet}.10-${lanNet}.254` });
  dev.insert('dhcp-server', {
    name: 'defconf',
    interface: 'bridge',
    'address-pool': 'dhcp',
    'lease-time': '30m',
    disabled: 'false',
    invalid: 'false',
  });
  dev.insert('dhcp-network', {
    address: `${lanNet}.0/24`,
    gateway: `${lanNet}.1`,
    'dns-server': `${lanNet}.1`,
    comment: 'defconf',
  });
  for (let i = 0; i < 3; i++) {
    const mac = `02:00:${hex((dev.index >> 8) & 0xff, 2)}:${hex(dev.index & 0xff, 2)}:00:${hex(i + 1, 2)}`;
    dev.insert('dhcp-lease', {
      address: `${lanNet}.${254 - i}`,
      'mac-address': mac,
      'client-id': `1:${mac.toLowerCase()}`,
      server: 'defconf',
      status: 'bound',
      'expires-after': '8m12s',
      'last-seen': '1m48s',
      'active-address': `${lanNet}.${254 - i}`,
      'active-mac-address': mac,
      'host-name': `client-${i + 1}`,
      dynamic: 'true',
      disabled: 'false',
      blocked: 'false',
      radius: 'false',
    });
  }
  dev.insert('fw-filter', {
    chain: 'input',
    action: 'accept',
    'connection-state': 'established,related,untracked',
    comment: 'defconf: accept established,related,untracked',
    disabled: 'false',
    dynamic: 'false',
    invalid: 'false',
    bytes: '0',
    packets: '0',
  });
  dev.insert('fw-filter', {
    chain: 'input',
    action: 'drop',
    'in-interface': 'ether1',
    comment: 'defconf: drop all from WAN',
    disabled: 'false',
    dynamic: 'false',
    invalid: 'false',
    bytes: '0',
    packets: '0',
  });
  dev.insert('fw-nat', {
    chain: 'srcnat',
    action: 'masquerade',
    'out-interface': 'ether1',
    comment: 'defconf: masquerade',
    disabled: 'false',
    dynamic: 'false',
    invalid: 'false',
    bytes: '0',
    packets: '0',
  });
  dev.insert('fw-addrlist', { list: 'mgmt', address: '10.0.0.0/8', dynamic: 'false', disabled: 'false' });
  dev.insert('health', {});
  dev.insert('certificate', {
    name: 'api-ssl',
    'common-name': dev.identity,
    'key-type': 'rsa',
    'key-size': '2048',
    'days-valid': '365',
    trusted: 'true',
    'private-key': 'true',
    authority: 'false',
    'digest-algorithm': 'sha256',
    'serial-number': hex(dev.index + 0x1000, 16),
    'invalid-before': dev.date(now - 86400000),
    'invalid-after': dev.date(now + 364 * 86400000),
    fingerprint: hex(dev.index, 8).toLowerCase().repeat(8),
  });
  const flash = dev.board.totalHdd <= 16777216 ? '' : 'flash';
  if (flash)
    dev.insert('file', { name: 'flash', type: 'directory', 'creation-time': dev.date(now - 90 * 86400000) });
  dev.insert('file', {
    name: `${flash ? 'flash/' : ''}skins`,
    type: 'directory',
    'creation-time': dev.date(now - 90 * 86400000),
  });
  dev.log('system,info', 'router rebooted');
}

function addIface(
  dev: Device,
  name: string,
  type: string,
  slot: number,
  running: boolean,
  extra: Row = {},
): void {
  const physical = type === 'ether' || type === 'wlan' || type === 'wifi';
  dev.insert('interface', {
    name,
    ...(physical ? { 'default-name': name } : {}),
    type,
    mtu: '1500',
    'actual-mtu': '1500',
    l2mtu: '1514',
    ...(type === 'ether' ? { 'max-l2mtu': '9796' } : {}),
    'mac-address': dev.mac(slot),
    'link-downs': '0',
    running: running ? 'true' : 'false',
    disabled: 'false',
    _slot: String(slot),
    ...extra,
  });
}

export { formatDate, formatDuration };
