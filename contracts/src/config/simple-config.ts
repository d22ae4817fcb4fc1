// Simple Config (issue #8): the guided view's seven tabs as pure mappings. Each tab reads the device's menus
// (rows as `menu.print` returns them, keyed by path) into a small form model, and turns an edited model back
// into the editor's Change[] (preview, then safe apply). Only what differs from the device becomes a change, so
// an untouched form applies nothing. The portal stays a thin form around these functions.
import type { Change, MenuRow } from '../api/config-ops';
/** Rows per menu path (`/ip/address`, ...). A menu the device lacks is absent or empty. */
export type MenuRows = Record<string, MenuRow[]>;

export const SIMPLE_TABS = [
  'internet',
  'lan',
  'wifi',
  'port-forwarding',
  'firewall',
  'dns',
  'system',
] as const;
export type SimpleTab = (typeof SIMPLE_TABS)[number];

/** The menus each tab reads. */
export const SIMPLE_MENUS: Record<SimpleTab, string[]> = {
  internet: ['/ip/dhcp-client', '/interface/pppoe-client', '/ip/address', '/ip/route', '/interface'],
  lan: ['/ip/address', '/ip/dhcp-server', '/ip/pool', '/ip/dhcp-server/network', '/interface'],
  wifi: ['/interface/wireless', '/interface/wireless/security-profiles'],
  'port-forwarding': ['/ip/firewall/nat'],
  firewall: ['/ip/firewall/filter'],
  dns: ['/ip/dns'],
  system: ['/system/identity', '/system/clock', '/system/ntp/client', '/user'],
};

const rowsOf = (m: MenuRows, path: string): MenuRow[] => m[path] ?? [];
const isOn = (v: string | undefined) => v === 'true' || v === 'yes';
const enabled = (r: MenuRow) => !isOn(r.disabled);
const csv = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** Only the values that differ from the row (a row's `true`/`false` equal our `yes`/`no`). */
function changedValues(row: MenuRow | undefined, want: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) {
    const have = row?.[k];
    const norm = (x: string | undefined) => (x === 'true' ? 'yes' : x === 'false' ? 'no' : (x ?? ''));
    if (norm(have) !== norm(v)) out[k] = v;
  }
  return out;
}

/** `set` for the fields that differ; nothing when none does. `id` absent for single-row menus. */
function setIfChanged(path: string, row: MenuRow | undefined, want: Record<string, string>): Change[] {
  const values = changedValues(row, want);
  if (Object.keys(values).length === 0) return [];
  return [{ action: 'set', path, ...(row?.['.id'] ? { id: row['.id'] } : {}), values }];
}

// ---------------------------------------------------------------------------------------------- IPv4 helpers

function ipToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** `192.168.88.1/24` → its parts, or null when it is not an IPv4 address with a prefix. */
export function parseCidr(cidr: string): { ip: string; prefix: number; network: string } | null {
  const [ip, p] = cidr.trim().split('/');
  const n = ip ? ipToInt(ip) : null;
  const prefix = p === undefined ? 32 : Number(p);
  if (n === null || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { ip: ip!, prefix, network: `${intToIp((n & mask) >>> 0)}/${prefix}` };
}

function inSubnet(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const n = ipToInt(ip);
  if (!c || n === null) return false;
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return (n & mask) >>> 0 === (ipToInt(c.ip)! & mask) >>> 0;
}

// ------------------------------------------------------------------------------------------------- Internet

export interface InternetModel {
  mode: 'dhcp' | 'static' | 'pppoe';
  /** The WAN port (e.g. ether1). */
  interface: string;
  /** Static: address with prefix (203.0.113.10/24) and gateway. */
  address: string;
  gateway: string;
  /** PPPoE: user name; the password is write-only (empty = keep the device's). */
  pppoeUser: string;
  pppoePassword: string;
}

const DHCP = '/ip/dhcp-client';
const PPPOE = '/interface/pppoe-client';
const ADDR = '/ip/address';
const ROUTE = '/ip/route';
const isDefaultRoute = (r: MenuRow) => r['dst-address'] === '0.0.0.0/0' && !isOn(r.dynamic);

export function readInternet(m: MenuRows): InternetModel {
  const base: InternetModel = {
    mode: 'dhcp',
    interface: 'ether1',
    address: '',
    gateway: '',
    pppoeUser: '',
    pppoePassword: '',
  };
  const pppoe = rowsOf(m, PPPOE).find(enabled);
  if (pppoe)
    return {
      ...base,
      mode: 'pppoe',
      interface: pppoe.interface ?? base.interface,
      pppoeUser: pppoe.user ?? '',
    };
  const dhcp = rowsOf(m, DHCP).find(enabled);
  if (dhcp) return { ...base, mode: 'dhcp', interface: dhcp.interface ?? base.interface };
  const route = rowsOf(m, ROUTE).find((r) => isDefaultRoute(r) && enabled(r));
  if (route?.gateway) {
    const addr = rowsOf(m, ADDR).find((a) => a.address && inSubnet(route.gateway!, a.address));
    return {
      ...base,
      mode: 'static',
      interface: addr?.interface ?? base.interface,
      address: addr?.address ?? '',
      gateway: route.gateway,
    };
  }
  return base;
}

export function internetChanges(m: MenuRows, want: InternetModel): Change[] {
  const out: Change[] = [];
  const wan = want.interface;
  const dhcpRows = rowsOf(m, DHCP).filter((r) => r.interface === wan);
  const pppoeRows = rowsOf(m, PPPOE).filter((r) => r.interface === wan);
  const staticRoutes = rowsOf(m, ROUTE).filter(isDefaultRoute);
  const wanAddrs = rowsOf(m, ADDR).filter((a) => a.interface === wan && !isOn(a.dynamic));
  const remove = (path: string, rows: MenuRow[]) => {
    for (const r of rows) if (r['.id']) out.push({ action: 'remove', path, id: r['.id'] });
  };
  if (want.mode !== 'dhcp') remove(DHCP, dhcpRows);
  if (want.mode !== 'pppoe') remove(PPPOE, pppoeRows);
  if (want.mode !== 'static') {
    remove(ROUTE, staticRoutes);
    remove(ADDR, wanAddrs);
  }
  if (want.mode === 'dhcp') {
    const [first] = dhcpRows;
    if (!first) {
      out.push({
        action: 'add',
        path: DHCP,
        values: { interface: wan, 'add-default-route': 'yes', 'use-peer-dns': 'yes', disabled: 'no' },
      });
    } else if (!enabled(first)) out.push({ action: 'enable', path: DHCP, id: first['.id']! });
  } else if (want.mode === 'static') {
    const [addr, ...extraAddrs] = wanAddrs;
    if (addr) out.push(...setIfChanged(ADDR, addr, { address: want.address }));
    else out.push({ action: 'add', path: ADDR, values: { address: want.address, interface: wan } });
    remove(ADDR, extraAddrs);
    const [route, ...extraRoutes] = staticRoutes;
    if (route) out.push(...setIfChanged(ROUTE, route, { gateway: want.gateway }));
    else
      out.push({ action: 'add', path: ROUTE, values: { 'dst-address': '0.0.0.0/0', gateway: want.gateway } });
    remove(ROUTE, extraRoutes);
  } else {
    const [first] = pppoeRows;
    const values: Record<string, string> = {
      interface: wan,
      user: want.pppoeUser,
      'add-default-route': 'yes',
      'use-peer-dns': 'yes',
      disabled: 'no',
    };
    if (first) {
      const changes = changedValues(first, values);
      if (want.pppoePassword) changes.password = want.pppoePassword;
      if (Object.keys(changes).length)
        out.push({ action: 'set', path: PPPOE, id: first['.id']!, values: changes });
    } else {
      out.push({
        action: 'add',
        path: PPPOE,
        values: {
          name: 'pppoe-out1',
          ...values,
          ...(want.pppoePassword ? { password: want.pppoePassword } : {}),
        },
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ LAN and DHCP server

export interface LanModel {
  /** The LAN interface, usually the bridge. */
  interface: string;
  /** Router address on the LAN with prefix (192.168.88.1/24). */
  address: string;
  dhcpEnabled: boolean;
  /** Pool range (192.168.88.10-192.168.88.254). */
  poolRange: string;
  leaseTime: string;
  /** DNS servers handed to clients (empty: the router itself). */
  dnsServers: string[];
}

const DHCPD = '/ip/dhcp-server';
const POOL = '/ip/pool';
const DHCP_NET = '/ip/dhcp-server/network';

function lanParts(m: MenuRows) {
  const server = rowsOf(m, DHCPD)[0];
  const bridge = rowsOf(m, '/interface').find((i) => i.type === 'bridge')?.name;
  const iface = server?.interface ?? bridge ?? 'bridge';
  const addr = rowsOf(m, ADDR).find((a) => a.interface === iface && !isOn(a.dynamic));
  const pool = server?.['address-pool']
    ? rowsOf(m, POOL).find((p) => p.name === server['address-pool'])
    : undefined;
  const network = addr?.address
    ? rowsOf(m, DHCP_NET).find((n) => n.address === parseCidr(addr.address!)?.network)
    : undefined;
  return { server, iface, addr, pool, network };
}

export function readLan(m: MenuRows): LanModel {
  const { server, iface, addr, pool, network } = lanParts(m);
  return {
    interface: iface,
    address: addr?.address ?? '',
    dhcpEnabled: server ? enabled(server) : false,
    poolRange: pool?.ranges ?? '',
    leaseTime: server?.['lease-time'] ?? '30m',
    dnsServers: csv(network?.['dns-server']),
  };
}

export function lanChanges(m: MenuRows, want: LanModel): Change[] {
  const out: Change[] = [];
  const { server, addr, pool, network } = lanParts(m);
  const cidr = parseCidr(want.address);
  if (addr) out.push(...setIfChanged(ADDR, addr, { address: want.address, interface: want.interface }));
  else if (want.address)
    out.push({ action: 'add', path: ADDR, values: { address: want.address, interface: want.interface } });
  if (!want.dhcpEnabled) {
    if (server && enabled(server)) out.push({ action: 'disable', path: DHCPD, id: server['.id']! });
    return out;
  }
  const poolName = pool?.name ?? server?.['address-pool'] ?? 'dhcp_pool_lan';
  if (pool) out.push(...setIfChanged(POOL, pool, { ranges: want.poolRange }));
  else out.push({ action: 'add', path: POOL, values: { name: poolName, ranges: want.poolRange } });
  if (cidr) {
    const netValues = { gateway: cidr.ip, 'dns-server': want.dnsServers.join(',') };
    const oldNetwork = addr?.address ? parseCidr(addr.address)?.network : undefined;
    if (network && oldNetwork === cidr.network) out.push(...setIfChanged(DHCP_NET, network, netValues));
    else {
      if (network) out.push({ action: 'remove', path: DHCP_NET, id: network['.id']! });
      out.push({ action: 'add', path: DHCP_NET, values: { address: cidr.network, ...netValues } });
    }
  }
  if (server) {
    out.push(
      ...setIfChanged(DHCPD, server, {
        interface: want.interface,
        'address-pool': poolName,
        'lease-time': want.leaseTime,
      }),
    );
    if (!enabled(server)) out.push({ action: 'enable', path: DHCPD, id: server['.id']! });
  } else {
    out.push({
      action: 'add',
      path: DHCPD,
      values: {
        name: 'dhcp-lan',
        interface: want.interface,
        'address-pool': poolName,
        'lease-time': want.leaseTime,
        disabled: 'no',
      },
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------ Wi-Fi

export interface WifiModel {
  /** The wireless interface (wlan1); empty when the device has none. */
  interface: string;
  ssid: string;
  security: 'open' | 'wpa2-psk';
  /** Write-only: empty keeps the device's key. */
  passphrase: string;
  /** Frequency in MHz, or `auto`. */
  frequency: string;
  band: string;
}

const WLAN = '/interface/wireless';
const SEC = '/interface/wireless/security-profiles';

export function readWifi(m: MenuRows): WifiModel {
  const wlan = rowsOf(m, WLAN)[0];
  const profile = rowsOf(m, SEC).find((p) => p.name === (wlan?.['security-profile'] ?? 'default'));
  return {
    interface: wlan?.name ?? '',
    ssid: wlan?.ssid ?? '',
    security: profile && profile.mode === 'dynamic-keys' ? 'wpa2-psk' : 'open',
    passphrase: '',
    frequency: wlan?.frequency ?? 'auto',
    band: wlan?.band ?? '',
  };
}

export function wifiChanges(m: MenuRows, want: WifiModel): Change[] {
  const wlan = rowsOf(m, WLAN).find((w) => w.name === want.interface);
  if (!wlan) return [];
  const out: Change[] = [];
  const profileName = wlan['security-profile'] ?? 'default';
  const profile = rowsOf(m, SEC).find((p) => p.name === profileName);
  const secWant: Record<string, string> =
    want.security === 'open'
      ? { mode: 'none' }
      : { mode: 'dynamic-keys', 'authentication-types': 'wpa2-psk' };
  if (profile) {
    const values = changedValues(profile, secWant);
    if (want.security === 'wpa2-psk' && want.passphrase) values['wpa2-pre-shared-key'] = want.passphrase;
    if (Object.keys(values).length) out.push({ action: 'set', path: SEC, id: profile['.id']!, values });
  }
  const wlanWant: Record<string, string> = { ssid: want.ssid, frequency: want.frequency };
  if (want.band) wlanWant.band = want.band;
  out.push(...setIfChanged(WLAN, wlan, wlanWant));
  return out;
}

// --------------------------------------------------------------------------------------------- Port forwarding

export interface PortForward {
  /** The NAT rule's `.id`; absent for a new forward. */
  id?: string;
  protocol: 'tcp' | 'udp';
  /** The public port (or range). */
  dstPort: string;
  toAddress: string;
  toPort: string;
  inInterface: string;
  comment: string;
  disabled: boolean;
}

const NAT = '/ip/firewall/nat';
const isForward = (r: MenuRow) => r.chain === 'dstnat' && r.action === 'dst-nat';

export function readPortForwards(m: MenuRows): PortForward[] {
  return rowsOf(m, NAT)
    .filter(isForward)
    .map((r) => ({
      ...(r['.id'] ? { id: r['.id'] } : {}),
      protocol: r.protocol === 'udp' ? 'udp' : 'tcp',
      dstPort: r['dst-port'] ?? '',
      toAddress: r['to-addresses'] ?? '',
      toPort: r['to-ports'] ?? '',
      inInterface: r['in-interface'] ?? '',
      comment: r.comment ?? '',
      disabled: isOn(r.disabled),
    }));
}

function forwardValues(f: PortForward): Record<string, string> {
  const v: Record<string, string> = {
    chain: 'dstnat',
    action: 'dst-nat',
    protocol: f.protocol,
    'dst-port': f.dstPort,
    'to-addresses': f.toAddress,
    'to-ports': f.toPort || f.dstPort,
  };
  if (f.inInterface) v['in-interface'] = f.inInterface;
  if (f.comment) v.comment = f.comment;
  return v;
}

export function portForwardChanges(m: MenuRows, want: PortForward[]): Change[] {
  const out: Change[] = [];
  const current = rowsOf(m, NAT).filter(isForward);
  const kept = new Set(want.map((f) => f.id).filter(Boolean));
  for (const r of current)
    if (r['.id'] && !kept.has(r['.id'])) out.push({ action: 'remove', path: NAT, id: r['.id'] });
  for (const f of want) {
    const row = f.id ? current.find((r) => r['.id'] === f.id) : undefined;
    if (!row) {
      out.push({
        action: 'add',
        path: NAT,
        values: { ...forwardValues(f), ...(f.disabled ? { disabled: 'yes' } : {}) },
      });
      continue;
    }
    out.push(...setIfChanged(NAT, row, forwardValues(f)));
    if (isOn(row.disabled) !== f.disabled)
      out.push({ action: f.disabled ? 'disable' : 'enable', path: NAT, id: row['.id']! });
  }
  return out;
}

// --------------------------------------------------------------------------------------------- Firewall basics

/** The basic protections, each one `input` rule TOD recognises by its comment. */
export const FIREWALL_BASICS = {
  acceptEstablished: {
    comment: 'tod: accept established,related',
    values: { chain: 'input', action: 'accept', 'connection-state': 'established,related' },
  },
  dropInvalid: {
    comment: 'tod: drop invalid',
    values: { chain: 'input', action: 'drop', 'connection-state': 'invalid' },
  },
  acceptIcmp: { comment: 'tod: accept icmp', values: { chain: 'input', action: 'accept', protocol: 'icmp' } },
  dropWanInput: {
    comment: 'tod: drop input from WAN',
    values: { chain: 'input', action: 'drop', 'in-interface-list': 'WAN' },
  },
} as const;
export type FirewallBasic = keyof typeof FIREWALL_BASICS;
export type FirewallModel = Record<FirewallBasic, boolean>;

const FILTER = '/ip/firewall/filter';
const BASIC_ORDER = Object.keys(FIREWALL_BASICS) as FirewallBasic[];

export function readFirewall(m: MenuRows): FirewallModel {
  const rows = rowsOf(m, FILTER);
  const out = {} as FirewallModel;
  for (const k of BASIC_ORDER) {
    const r = rows.find((row) => row.comment === FIREWALL_BASICS[k].comment);
    out[k] = r ? enabled(r) : false;
  }
  return out;
}

export function firewallChanges(m: MenuRows, want: FirewallModel): Change[] {
  const rows = rowsOf(m, FILTER);
  const out: Change[] = [];
  for (const k of BASIC_ORDER) {
    const r = rows.find((row) => row.comment === FIREWALL_BASICS[k].comment);
    if (want[k] && !r) {
      out.push({
        action: 'add',
        path: FILTER,
        values: { ...FIREWALL_BASICS[k].values, comment: FIREWALL_BASICS[k].comment },
      });
    } else if (r && want[k] !== enabled(r)) {
      out.push({ action: want[k] ? 'enable' : 'disable', path: FILTER, id: r['.id']! });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------- DNS

export interface DnsModel {
  servers: string[];
  allowRemoteRequests: boolean;
}

export function readDns(m: MenuRows): DnsModel {
  const dns = rowsOf(m, '/ip/dns')[0];
  return { servers: csv(dns?.servers), allowRemoteRequests: isOn(dns?.['allow-remote-requests']) };
}

export function dnsChanges(m: MenuRows, want: DnsModel): Change[] {
  return setIfChanged('/ip/dns', rowsOf(m, '/ip/dns')[0], {
    servers: want.servers.join(','),
    'allow-remote-requests': yesNo(want.allowRemoteRequests),
  });
}

// ---------------------------------------------------------------------------------------------------- System

export interface SystemModel {
  identity: string;
  timeZone: string;
  ntpEnabled: boolean;
  ntpServers: string[];
  /** Write-only: empty keeps the admin's password. */
  adminPassword: string;
}

export function readSystem(m: MenuRows): SystemModel {
  const ntp = rowsOf(m, '/system/ntp/client')[0];
  return {
    identity: rowsOf(m, '/system/identity')[0]?.name ?? '',
    timeZone: rowsOf(m, '/system/clock')[0]?.['time-zone-name'] ?? '',
    ntpEnabled: isOn(ntp?.enabled),
    ntpServers: csv(ntp?.servers),
    adminPassword: '',
  };
}

export function systemChanges(m: MenuRows, want: SystemModel): Change[] {
  const out: Change[] = [];
  out.push(...setIfChanged('/system/identity', rowsOf(m, '/system/identity')[0], { name: want.identity }));
  if (want.timeZone) {
    out.push(
      ...setIfChanged('/system/clock', rowsOf(m, '/system/clock')[0], { 'time-zone-name': want.timeZone }),
    );
  }
  const ntp = rowsOf(m, '/system/ntp/client')[0];
  if (ntp || want.ntpEnabled) {
    out.push(
      ...setIfChanged('/system/ntp/client', ntp, {
        enabled: yesNo(want.ntpEnabled),
        servers: want.ntpServers.join(','),
      }),
    );
  }
  if (want.adminPassword) {
    const admin = rowsOf(m, '/user').find((u) => u.name === 'admin');
    if (admin?.['.id'])
      out.push({ action: 'set', path: '/user', id: admin['.id'], values: { password: want.adminPassword } });
  }
  return out;
}

/** Validation messages for a model before it becomes changes (empty: fine). */
export function validateInternet(want: InternetModel): string[] {
  const errs: string[] = [];
  if (!want.interface) errs.push('choose the WAN port');
  if (want.mode === 'static') {
    if (!parseCidr(want.address) || !want.address.includes('/'))
      errs.push('address must look like 203.0.113.10/24');
    if (ipToInt(want.gateway) === null) errs.push('gateway must be an IPv4 address');
  }
  if (want.mode === 'pppoe' && !want.pppoeUser) errs.push('PPPoE needs a user name');
  return errs;
}

export function validateLan(want: LanModel): string[] {
  const errs: string[] = [];
  if (!parseCidr(want.address) || !want.address.includes('/'))
    errs.push('address must look like 192.168.88.1/24');
  if (want.dhcpEnabled && !/^\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+$/.test(want.poolRange.trim()))
    errs.push('pool range must look like 192.168.88.10-192.168.88.254');
  for (const s of want.dnsServers) if (ipToInt(s) === null) errs.push(`${s} is not an IPv4 address`);
  return errs;
}

export function validateDns(want: DnsModel): string[] {
  return want.servers
    .filter((s) => ipToInt(s) === null && !/^[0-9a-f:]+$/i.test(s))
    .map((s) => `${s} is not an IP address`);
}
