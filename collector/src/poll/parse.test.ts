import { HealthData, InterfacesData, ResourceData, WirelessData } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import {
  configMarker,
  parseDuration,
  parseHealth,
  parseInterfaces,
  parseRateMbps,
  parseRegistrations,
  parseResource,
  ReplyShapeError,
} from './parse';

describe('RouterOS value formats', () => {
  it.each([
    ['2d20h12m20s', 245_540],
    ['3w19h11m36s', 1_883_496],
    ['5h49m36s', 20_976],
    ['170ms', 0],
    ['00:01:02', 62],
    ['1d 02:03:04', 93_784],
  ])('parses the duration %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it('rejects what is not a duration', () => {
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('5h and 3m')).toBeUndefined();
  });

  it.each([
    ['72.2Mbps-20MHz/1S/SGI', 72.2],
    ['866.7Mbps-80MHz/2S/SGI', 866.7],
    ['1.2Gbps', 1200],
    ['54000000', 54],
  ])('parses the rate %s', (text, mbps) => {
    expect(parseRateMbps(text)).toBeCloseTo(mbps);
  });
});

describe('resource', () => {
  const resource = {
    uptime: '2d20h12m20s',
    version: '7.16.2 (stable)',
    'free-memory': '1503133696',
    'total-memory': '2046820352',
    'cpu-load': '1',
    'free-hdd-space': '83439616',
    'total-hdd-space': '134217728',
    'architecture-name': 'arm64',
    'board-name': 'hAP ax^3',
  };
  const routerboard = {
    model: 'C53UiG+5HPaxD2HPaxD',
    'serial-number': 'HFE09ABCDEF',
    'current-firmware': '7.16.2',
  };

  it('combines resource, identity and routerboard into a valid payload', () => {
    const data = ResourceData.parse(parseResource(resource, { name: 'rtr-01' }, routerboard));
    expect(data).toMatchObject({
      identity: 'rtr-01',
      version: '7.16.2',
      uptimeSeconds: 245_540,
      boardName: 'hAP ax^3',
      serial: 'HFE09ABCDEF',
      firmware: '7.16.2',
    });
  });

  it('works without a routerboard menu (CHR, x86)', () => {
    const data = ResourceData.parse(
      parseResource({ ...resource, 'board-name': 'CHR' }, { name: 'chr' }, undefined),
    );
    expect(data.serial).toBeUndefined();
    expect(data.boardName).toBe('CHR');
  });

  it('refuses a reply without the numbers it needs', () => {
    expect(() => parseResource({ ...resource, 'cpu-load': 'lots' }, undefined, undefined)).toThrow(
      ReplyShapeError,
    );
    expect(() => parseResource(undefined, undefined, undefined)).toThrow(ReplyShapeError);
  });
});

describe('interfaces', () => {
  const row = (rx: number, tx: number) => ({
    '.id': '*1',
    name: 'ether1',
    type: 'ether',
    'mac-address': '54:05:AB:1E:BE:71',
    'rx-byte': String(rx),
    'tx-byte': String(tx),
    'rx-packet': '10',
    'tx-packet': '20',
    running: 'true',
    disabled: 'false',
  });

  it('gives no rate on the first sample, then bits per second over the interval', () => {
    const first = parseInterfaces([row(1000, 2000)], undefined, { at: 0, uptimeSeconds: 100 });
    expect(first.interfaces[0]!.rxBps).toBeUndefined();
    const second = parseInterfaces([row(76_000, 2000 + 7500)], first.snapshot, {
      at: 60_000,
      uptimeSeconds: 160,
    });
    expect(second.interfaces[0]).toMatchObject({ rxBps: 10_000, txBps: 1000, running: true });
    expect(InterfacesData.parse({ interfaces: second.interfaces }).interfaces).toHaveLength(1);
  });

  it('gives no rate across a reboot or a counter reset', () => {
    const first = parseInterfaces([row(5_000_000, 5_000_000)], undefined, { at: 0, uptimeSeconds: 10_000 });
    const afterReboot = parseInterfaces([row(6_000_000, 6_000_000)], first.snapshot, {
      at: 60_000,
      uptimeSeconds: 30,
    });
    expect(afterReboot.interfaces[0]!.rxBps).toBeUndefined();
    const reset = parseInterfaces([row(100, 100)], first.snapshot, { at: 60_000, uptimeSeconds: 10_060 });
    expect(reset.interfaces[0]!.rxBps).toBeUndefined();
  });

  it('reads the error counters when the device reports them', () => {
    const withErrors = { ...row(1, 1), 'rx-error': '7', 'tx-error': '0' };
    const [sample] = parseInterfaces([withErrors], undefined, { at: 0, uptimeSeconds: 1 }).interfaces;
    expect(sample).toMatchObject({ rxErrors: 7, txErrors: 0 });
    expect(
      parseInterfaces([row(1, 1)], undefined, { at: 0, uptimeSeconds: 1 }).interfaces[0],
    ).not.toHaveProperty('rxErrors');
  });
});

describe('wireless registrations', () => {
  it('reads the legacy wireless table and the 7.x wifi table alike', () => {
    const legacy = {
      '.id': '*264',
      interface: 'wlan1',
      'mac-address': '00:0c:42:00:00:01',
      'rx-rate': '72.2Mbps-20MHz/1S/SGI',
      'tx-rate': '65Mbps-20MHz/1S',
      uptime: '5h49m36s',
      'signal-strength': '-62@1Mbps',
    };
    const wifi = {
      '.id': '*F7',
      interface: 'wifi1',
      'mac-address': '00:00:00:00:00:04',
      uptime: '2d15h28m27s',
      signal: '-47',
      'tx-rate': '54000000',
      'rx-rate': '54000000',
    };
    const clients = WirelessData.parse({ clients: parseRegistrations([legacy, wifi]) }).clients;
    expect(clients).toEqual([
      {
        interface: 'wlan1',
        macAddress: '00:0C:42:00:00:01',
        signalDbm: -62,
        txRateMbps: 65,
        rxRateMbps: 72.2,
        uptimeSeconds: 20_976,
      },
      {
        interface: 'wifi1',
        macAddress: '00:00:00:00:00:04',
        signalDbm: -47,
        txRateMbps: 54,
        rxRateMbps: 54,
        uptimeSeconds: 228_507,
      },
    ]);
  });
});

describe('health', () => {
  it('reads the 7.x one-row-per-sensor shape', () => {
    const rows = [
      { '.id': '*D', name: 'cpu-temperature', value: '44', type: 'C' },
      { '.id': '*E', name: 'fan1-speed', value: '2835', type: 'RPM' },
      { '.id': '*F', name: 'psu1-state', value: 'ok', type: '' },
      { '.id': '*10', name: 'voltage', value: '24.1', type: 'V' },
    ];
    expect(HealthData.parse(parseHealth(rows))).toEqual({
      voltage: 24.1,
      cpuTemperatureC: 44,
      fans: { fan1: 2835 },
      psu: { psu1: 'ok' },
    });
  });

  it('reads the 6.x single-row shape', () => {
    expect(parseHealth([{ voltage: '23.9', temperature: '38', 'cpu-temperature': '45' }])).toEqual({
      voltage: 23.9,
      temperatureC: 38,
      cpuTemperatureC: 45,
    });
  });

  it('gives an empty payload for a board without sensors', () => {
    expect(parseHealth([])).toEqual({});
  });
});

describe('config marker', () => {
  it('changes when history gains an entry', () => {
    const h1 = [{ '.id': '*1', action: 'ip address added', time: 'nov/23/2026 07:00:00' }];
    const h2 = [...h1, { '.id': '*2', action: 'firewall rule changed', time: 'nov/23/2026 07:05:00' }];
    expect(configMarker(h1)).not.toBe(configMarker(h2));
    expect(configMarker(h2)).toBe(configMarker([...h2]));
    expect(configMarker([])).toBe('empty');
  });
});
