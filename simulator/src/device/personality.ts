// Board and version personalities: what hardware a simulated device claims to be and which RouterOS quirks it shows.

export type LoginMode = 'legacy' | 'transitional' | 'modern';
export type RadioKind = 'wifi' | 'wireless' | 'none';
export type RadioRole = 'ap' | 'station' | 'none';

export interface BoardPersonality {
  id: string;
  boardName: string;
  model: string;
  architecture: string;
  cpu: string;
  cpuCount: number;
  cpuFrequency: number;
  totalMemory: number;
  totalHdd: number;
  firmwareType: string;
  factoryFirmware: string;
  version: string;
  channel: string;
  ethernetPorts: number;
  sfpPorts: number;
  radio: RadioKind;
  role: RadioRole;
  serialPrefix: string;
}

export const BOARDS: readonly BoardPersonality[] = [
  {
    id: 'hap-ax3',
    boardName: 'hAP ax^3',
    model: 'C53UiG+5HPaxD2HPaxD',
    architecture: 'arm64',
    cpu: 'ARM64',
    cpuCount: 4,
    cpuFrequency: 864,
    totalMemory: 1073741824,
    totalHdd: 134217728,
    firmwareType: 'ipq6000',
    factoryFirmware: '7.7',
    version: '7.18.2',
    channel: 'stable',
    ethernetPorts: 5,
    sfpPorts: 0,
    radio: 'wifi',
    role: 'ap',
    serialPrefix: 'HFE',
  },
  {
    id: 'rb5009',
    boardName: 'RB5009UG+S+',
    model: 'RB5009UG+S+',
    architecture: 'arm64',
    cpu: 'ARM64',
    cpuCount: 4,
    cpuFrequency: 1400,
    totalMemory: 1073741824,
    totalHdd: 1073741824,
    firmwareType: '88f7040',
    factoryFirmware: '7.0.4',
    version: '7.16.2',
    channel: 'stable',
    ethernetPorts: 8,
    sfpPorts: 1,
    radio: 'none',
    role: 'none',
    serialPrefix: 'HCY',
  },
  {
    id: 'ccr2004',
    boardName: 'CCR2004-1G-12S+2XS',
    model: 'CCR2004-1G-12S+2XS',
    architecture: 'arm64',
    cpu: 'ARM64',
    cpuCount: 4,
    cpuFrequency: 1700,
    totalMemory: 4294967296,
    totalHdd: 134217728,
    firmwareType: 'al2',
    factoryFirmware: '6.46.4',
    version: '7.8',
    channel: 'stable',
    ethernetPorts: 1,
    sfpPorts: 12,
    radio: 'none',
    role: 'none',
    serialPrefix: 'D4F',
  },
  {
    id: 'crs326',
    boardName: 'CRS326-24G-2S+',
    model: 'CRS326-24G-2S+',
    architecture: 'arm',
    cpu: 'ARMv7',
    cpuCount: 1,
    cpuFrequency: 800,
    totalMemory: 536870912,
    totalHdd: 16777216,
    firmwareType: '98DX3236',
    factoryFirmware: '6.44.3',
    version: '6.49.10',
    channel: 'long-term',
    ethernetPorts: 24,
    sfpPorts: 2,
    radio: 'none',
    role: 'none',
    serialPrefix: 'A1B',
  },
  {
    id: 'wap-ac',
    boardName: 'wAP ac',
    model: 'RBwAPG-5HacD2HnD',
    architecture: 'arm',
    cpu: 'ARMv7',
    cpuCount: 4,
    cpuFrequency: 716,
    totalMemory: 268435456,
    totalHdd: 16777216,
    firmwareType: 'ipq4000L',
    factoryFirmware: '6.45.9',
    version: '6.49.15',
    channel: 'long-term',
    ethernetPorts: 1,
    sfpPorts: 0,
    radio: 'wireless',
    role: 'ap',
    serialPrefix: 'C8D',
  },
  {
    id: 'lhg-5',
    boardName: 'LHG 5 ac',
    model: 'RBLHGG-5acD',
    architecture: 'arm',
    cpu: 'ARMv7',
    cpuCount: 4,
    cpuFrequency: 716,
    totalMemory: 268435456,
    totalHdd: 16777216,
    firmwareType: 'ipq4000L',
    factoryFirmware: '6.41.3',
    version: '6.42.12',
    channel: 'long-term',
    ethernetPorts: 1,
    sfpPorts: 0,
    radio: 'wireless',
    role: 'station',
    serialPrefix: 'B5E',
  },
];

export function boardById(id: string): BoardPersonality {
  const b = BOARDS.find((x) => x.id === id);
  if (!b) throw new Error(`unknown board personality ${id}`);
  return b;
}

/** Numeric comparison of dotted RouterOS versions ("7.18.2" vs "7.18"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface VersionTraits {
  major: number;
  emptyReply: boolean;
  isoDates: boolean;
  loginMode: LoginMode;
  healthRows: boolean;
  exportHidesSensitive: boolean;
  wifiMenu: boolean;
}

export function versionTraits(version: string): VersionTraits {
  const major = Number.parseInt(version, 10);
  const atLeast = (v: string) => compareVersions(version, v) >= 0;
  return {
    major,
    emptyReply: atLeast('7.18'),
    isoDates: atLeast('7.10'),
    loginMode: atLeast('6.45.1') ? 'modern' : atLeast('6.43') ? 'transitional' : 'legacy',
    healthRows: major >= 7,
    exportHidesSensitive: major >= 7,
    wifiMenu: atLeast('7.13'),
  };
}

/** Next release a firmware update moves a device to. */
export function nextVersion(version: string): string {
  const parts = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  if ((parts[0] ?? 0) === 6) return parts[1] === 49 ? `6.49.${(parts[2] ?? 0) + 1}` : '6.49.17';
  return `${parts[0]}.${parts[1]}.${(parts[2] ?? 0) + 1}`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const pad = (n: number) => String(n).padStart(2, '0');

export function formatDate(ms: number, iso: boolean): string {
  const d = new Date(ms);
  return iso
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
    : `${MONTHS[d.getUTCMonth()]}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`;
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatDateTime(ms: number, iso: boolean): string {
  return `${formatDate(ms, iso)} ${formatTime(ms)}`;
}

/** RouterOS duration text: 1w2d3h4m5s, with ms for sub-second values. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms >= 1 ? `${Math.floor(ms)}ms` : '0s';
  let s = Math.floor(ms / 1000);
  const w = Math.floor(s / 604800);
  s %= 604800;
  const d = Math.floor(s / 86400);
  s %= 86400;
  const h = Math.floor(s / 3600);
  s %= 3600;
  const m = Math.floor(s / 60);
  s %= 60;
  let out = '';
  if (w) out += `${w}w`;
  if (d) out += `${d}d`;
  if (h) out += `${h}h`;
  if (m) out += `${m}m`;
  if (s || out === '') out += `${s}s`;
  return out;
}

/** Parse RouterOS durations ("1h30m", "90s", "00:05:00", "30") to ms. */
export function parseDuration(text: string): number {
  const hms = /^(\d+):(\d{2}):(\d{2})$/.exec(text);
  if (hms) return ((Number(hms[1]) * 60 + Number(hms[2])) * 60 + Number(hms[3])) * 1000;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
  let total = 0;
  const re = /(\d+)(ms|w|d|h|m|s)/g;
  let matched = '';
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 0);
    matched += m[0];
  }
  if (matched.length !== text.length) return Number.NaN;
  return total;
}
