// Values that change over time without anyone writing them: load, memory, counters, signal, neighbours, clock.

import { type Device, seeded } from './device';
import { formatDate, formatDuration, formatTime } from './personality';
import type { Row } from './query';

const BIG = 2n ** 64n;

function wave(dev: Device, salt: number, periodS: number): number {
  const t = dev.clock.now() / 1000;
  return Math.sin(t / periodS + seeded(dev.index * 31 + salt) * 6.283);
}

/** A monotonic counter that grows at a per-interface rate with a slow wave, from zero at boot. */
function counter(dev: Device, salt: number, bytesPerSecond: number): bigint {
  const s = dev.uptimeMs / 1000;
  const rate = bytesPerSecond * (0.5 + seeded(dev.index * 97 + salt));
  const wobble = (1 - Math.cos(s / 300)) * rate * 30;
  return BigInt(Math.floor(s * rate + wobble)) % BIG;
}

export function liveResource(dev: Device): Row {
  const b = dev.board;
  const load = Math.max(0, Math.min(100, Math.round(8 + 6 * wave(dev, 1, 37) + 4 * wave(dev, 2, 5))));
  const used = 0.25 + 0.08 * (wave(dev, 3, 120) + 1);
  const upd = dev.traits.isoDates;
  return {
    uptime: formatDuration(Math.floor(dev.uptimeMs / 1000) * 1000),
    version: `${dev.version} (${b.channel})`,
    'build-time': `${formatDate(dev.clock.now() - 120 * 86400000, upd)} 10:24:51`,
    'factory-software': b.factoryFirmware,
    'free-memory': String(Math.floor(b.totalMemory * (1 - used))),
    'total-memory': String(b.totalMemory),
    cpu: b.cpu,
    'cpu-count': String(b.cpuCount),
    'cpu-frequency': String(b.cpuFrequency),
    'cpu-load': String(load),
    'free-hdd-space': String(Math.floor(b.totalHdd * 0.62)),
    'total-hdd-space': String(b.totalHdd),
    'write-sect-since-reboot': String(Math.floor(dev.uptimeMs / 60000)),
    'write-sect-total': String(70000 + dev.index),
    'architecture-name': b.architecture,
    'board-name': b.boardName,
    platform: 'MikroTik',
  };
}

export function liveRouterboard(dev: Device): Row {
  const b = dev.board;
  return {
    routerboard: 'true',
    ...(dev.traits.major >= 7 ? { 'board-name': b.boardName } : {}),
    model: b.model,
    'serial-number': dev.serial,
    'firmware-type': b.firmwareType,
    'factory-firmware': b.factoryFirmware,
    'current-firmware': dev.version,
    'upgrade-firmware': dev.version,
  };
}

export function liveClock(dev: Device, row: Row): Row {
  const now = dev.clock.now();
  return {
    time: formatTime(now),
    date: formatDate(now, dev.traits.isoDates),
    'time-zone-name': row['time-zone-name'] ?? 'UTC',
    'time-zone-autodetect': row['time-zone-autodetect'] ?? 'true',
    'gmt-offset': '+00:00',
    'dst-active': 'false',
  };
}

export function liveHealth(dev: Device): Row[] {
  const temp = (40 + 6 * wave(dev, 5, 200)).toFixed(0);
  const volt = (24 + 0.3 * wave(dev, 6, 90)).toFixed(1);
  if (dev.traits.healthRows)
    return [
      { '.id': '*D', name: 'cpu-temperature', value: temp, type: 'C' },
      { '.id': '*E', name: 'voltage', value: volt, type: 'V' },
      ...(dev.board.id === 'ccr2004'
        ? [
            {
              '.id': '*F',
              name: 'fan1-speed',
              value: String(Math.round(2800 + 100 * wave(dev, 7, 60))),
              type: 'RPM',
            },
            { '.id': '*10', name: 'psu1-state', value: 'ok', type: '' },
          ]
        : []),
    ];
  return [{ voltage: volt, temperature: String(Number(temp) - 5), 'cpu-temperature': temp }];
}

export function liveInterface(dev: Device, row: Row): Row {
  if (row.running !== 'true' || row.disabled === 'true')
    return {
      ...row,
      'rx-byte': row['rx-byte'] ?? '0',
      'tx-byte': row['tx-byte'] ?? '0',
      'rx-packet': '0',
      'tx-packet': '0',
      'rx-drop': '0',
      'tx-drop': '0',
      'tx-queue-drop': '0',
      'rx-error': '0',
      'tx-error': '0',
      'fp-rx-byte': '0',
      'fp-tx-byte': '0',
      'fp-rx-packet': '0',
      'fp-tx-packet': '0',
    };
  const slot = Number(row._slot ?? '0');
  const rx = counter(dev, slot * 2 + 11, slot === 0 ? 250000 : 40000);
  const tx = counter(dev, slot * 2 + 12, slot === 0 ? 60000 : 120000);
  return {
    ...row,
    'last-link-up-time': dev.date(dev.bootAt + 5000),
    'rx-byte': rx.toString(),
    'tx-byte': tx.toString(),
    'rx-packet': (rx / 900n).toString(),
    'tx-packet': (tx / 700n).toString(),
    'rx-drop': '0',
    'tx-drop': '0',
    'tx-queue-drop': '0',
    'rx-error': '0',
    'tx-error': '0',
    'fp-rx-byte': ((rx * 9n) / 10n).toString(),
    'fp-tx-byte': '0',
    'fp-rx-packet': ((rx * 9n) / 9000n).toString(),
    'fp-tx-packet': '0',
  };
}

export function liveTraffic(dev: Device, row: Row): Row {
  const slot = Number(row._slot ?? '0');
  const running = row.running === 'true' && row.disabled !== 'true';
  const rxBps = running
    ? Math.round((slot === 0 ? 2000000 : 320000) * (1 + 0.3 * wave(dev, slot + 40, 7)))
    : 0;
  const txBps = running
    ? Math.round((slot === 0 ? 480000 : 960000) * (1 + 0.3 * wave(dev, slot + 41, 9)))
    : 0;
  return {
    name: row.name ?? '',
    'rx-packets-per-second': String(Math.round(rxBps / 7200)),
    'rx-bits-per-second': String(rxBps),
    'fp-rx-packets-per-second': String(Math.round(rxBps / 8000)),
    'fp-rx-bits-per-second': String(Math.round(rxBps * 0.9)),
    'rx-drops-per-second': '0',
    'rx-errors-per-second': '0',
    'tx-packets-per-second': String(Math.round(txBps / 5600)),
    'tx-bits-per-second': String(txBps),
    'fp-tx-packets-per-second': '0',
    'fp-tx-bits-per-second': '0',
    'tx-drops-per-second': '0',
    'tx-queue-drops-per-second': '0',
    'tx-errors-per-second': '0',
  };
}

function ifaceMac(d: Device, name: string): string {
  return d.table('interface').rows.find((r) => r.name === name)?.['mac-address'] ?? d.mac(0);
}

/** Registration rows: one per radio peer, MACs taken from the peer's own interface table. */
export function liveRegistrations(dev: Device, kind: 'wireless' | 'wifi'): Row[] {
  const out: Row[] = [];
  let n = 0;
  for (const p of dev.peers) {
    if (p.kind !== 'radio' || !p.remote.up) continue;
    n++;
    const sig = Math.round(-58 + 6 * wave(dev, 100 + p.remote.index, 23));
    const up = formatDuration(Math.min(dev.uptimeMs, p.remote.uptimeMs));
    const mac = ifaceMac(p.remote, p.remoteInterface);
    const bytesTx = counter(dev, 200 + p.remote.index, 90000);
    const bytesRx = counter(dev, 300 + p.remote.index, 30000);
    if (kind === 'wireless')
      out.push({
        '.id': `*${(0x100 + n).toString(16).toUpperCase()}`,
        interface: p.localInterface,
        'radio-name': p.remote.identity,
        'mac-address': mac,
        ap: dev.board.role === 'station' ? 'true' : 'false',
        wds: 'false',
        bridge: 'false',
        'rx-rate': '866.7Mbps-80MHz/2S/SGI',
        'tx-rate': '780Mbps-80MHz/2S/SGI',
        packets: `${bytesTx / 800n},${bytesRx / 600n}`,
        bytes: `${bytesTx},${bytesRx}`,
        uptime: up,
        'last-activity': '170ms',
        'signal-strength': `${sig}@6Mbps`,
        'signal-to-noise': String(sig + 105),
        'signal-strength-ch0': String(sig - 1),
        'signal-strength-ch1': String(sig - 4),
        'tx-ccq': String(88 + Math.round(5 * wave(dev, 400 + n, 11))),
        'last-ip': `192.168.${(p.remote.index % 250) + 1}.1`,
        'authentication-type': 'wpa2-psk',
        encryption: 'aes-ccm',
        'wmm-enabled': 'true',
      });
    else
      out.push({
        '.id': `*${(0x100 + n).toString(16).toUpperCase()}`,
        interface: p.localInterface,
        ssid: 'tod-sim',
        'mac-address': mac,
        uptime: up,
        signal: String(sig),
        'tx-rate': String(Math.round(866700000 * (1 + 0.1 * wave(dev, 500 + n, 13)))),
        'rx-rate': String(Math.round(720600000 * (1 + 0.1 * wave(dev, 600 + n, 17)))),
        packets: `${bytesTx / 800n},${bytesRx / 600n}`,
        bytes: `${bytesTx},${bytesRx}`,
        'tx-bits-per-second': '0',
        'rx-bits-per-second': '0',
        authorized: 'true',
        'last-activity': '170ms',
        band: '5ghz-ax',
      });
  }
  return out;
}

export function liveNeighbors(dev: Device): Row[] {
  return dev.peers
    .filter((p) => p.remote.up)
    .map((p, i) => {
      const r = p.remote;
      const ver = `${r.version} (${r.board.channel})`;
      return {
        '.id': `*${(i + 1).toString(16).toUpperCase()}`,
        interface: p.localInterface,
        address: `10.255.${(r.index >> 8) & 0xff}.${r.index & 0xff}`,
        address4: `10.255.${(r.index >> 8) & 0xff}.${r.index & 0xff}`,
        'mac-address': ifaceMac(r, p.remoteInterface),
        identity: r.identity,
        platform: 'MikroTik',
        version: ver,
        unpack: 'none',
        age: `${(i * 7) % 60}s`,
        uptime: formatDuration(r.uptimeMs),
        'software-id': r.softwareId,
        board: r.board.model,
        'interface-name': p.remoteInterface,
        'system-description': `MikroTik RouterOS ${ver} ${r.board.model}`,
        'system-caps': '',
        'system-caps-enabled': '',
        ...(dev.traits.major >= 7 ? { 'discovered-by': 'mndp' } : {}),
      };
    });
}
