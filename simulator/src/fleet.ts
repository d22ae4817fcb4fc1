// A fleet of simulated devices on loopback: builds devices, links APs/CPEs/routers, starts their servers, writes the manifest.

import type { TlsOptions } from 'node:tls';
import { type Clock, systemClock } from './device/clock';
import { Device } from './device/device';
import { boardById, type LoginMode } from './device/personality';
import { installScripting } from './device/script';
import type { FaultSet } from './faults/faults';
import { DeviceServer } from './wire/server';
import { type TlsConfig, tlsServerOptions } from './wire/tls';

export const DEFAULT_BOARD_ROTATION = [
  'rb5009',
  'hap-ax3',
  'lhg-5',
  'crs326',
  'wap-ac',
  'lhg-5',
  'ccr2004',
] as const;

export interface FleetUser {
  name: string;
  password: string;
  group: 'read' | 'write' | 'full';
}

export interface DeviceOverride {
  board?: string;
  version?: string;
  loginMode?: LoginMode;
  emptyReply?: boolean;
  identity?: string;
  updateStatus?: string;
}

export interface FleetOptions {
  devices: number;
  host?: string;
  boards?: readonly string[];
  /** API-SSL; false disables the second port (halves sockets for very large fleets). */
  tls?: TlsConfig | false;
  clock?: Clock;
  adminUser?: string;
  adminPassword?: string;
  users?: readonly FleetUser[];
  rebootDurationMs?: number;
  overrides?: Record<number, DeviceOverride>;
  /** Count of API sentences received, for the bench. */
  onSentence?: () => void;
}

export interface DeviceManifestEntry {
  index: number;
  identity: string;
  host: string;
  port: number;
  tlsPort?: number;
  board: string;
  boardName: string;
  model: string;
  architecture: string;
  version: string;
  serial: string;
  loginMode: LoginMode;
  radio: string;
  role: string;
}

export interface FleetManifest {
  generatedAt: string;
  host: string;
  tls: string;
  credentials: { username: string; password: string };
  users: FleetUser[];
  devices: DeviceManifestEntry[];
  controlUrl?: string;
}

export class SimDevice {
  private loopOff?: () => void;

  constructor(
    readonly device: Device,
    readonly server: DeviceServer,
  ) {}

  get index(): number {
    return this.device.index;
  }

  /** Replace the device's active faults (an empty object clears them). */
  async setFaults(f: FaultSet): Promise<void> {
    const before = this.server.faults;
    this.server.faults = { ...f };
    if (f.unreachable && !before.unreachable) await this.server.stopListening();
    if (!f.unreachable && before.unreachable) await this.server.resumeListening();
    this.loopOff?.();
    this.loopOff = undefined;
    const loop = f.rebootLoop;
    if (loop) {
      const d = this.device;
      const arm = () => {
        const t = d.clock.setTimer(loop.upMs, () => d.reboot());
        return t;
      };
      let timer = d.up ? arm() : undefined;
      const onBoot = () => (timer = arm());
      d.bootListeners.add(onBoot);
      this.loopOff = () => {
        timer?.cancel();
        d.bootListeners.delete(onBoot);
      };
    }
  }

  clearFaults(): Promise<void> {
    return this.setFaults({});
  }

  reboot(): void {
    this.device.reboot();
  }

  /** Changes an interface's link as a pulled cable (running) or an admin (disabled) would; its counters and
   * rates follow (a link that is not running moves no traffic). */
  setInterfaceState(name: string, state: { running?: boolean; disabled?: boolean }): void {
    const row = this.device.table('interface').rows.find((r) => r.name === name);
    if (!row) throw new Error(`no interface ${name}`);
    if (state.running !== undefined) row.running = String(state.running);
    if (state.disabled !== undefined) row.disabled = String(state.disabled);
    this.device.notify('interface', row, false);
  }

  async stop(): Promise<void> {
    this.loopOff?.();
    this.device.shutdownTimers();
    await this.server.close();
  }
}

export interface Fleet {
  manifest: FleetManifest;
  devices: SimDevice[];
  device(index: number): SimDevice;
  stop(): Promise<void>;
}

/** Link each CPE's radio to the nearest AP before it and each non-router's ether1 to the nearest router before it. */
function linkFleet(devices: Device[]): void {
  const radioIf = (d: Device) => (d.board.radio === 'wifi' && d.traits.wifiMenu ? 'wifi1' : 'wlan1');
  for (const d of devices) {
    if (d.board.role === 'station') {
      for (let j = d.index - 1; j >= 0; j--) {
        const ap = devices[j];
        if (ap && ap.board.role === 'ap') {
          d.peers.push({
            kind: 'radio',
            localInterface: radioIf(d),
            remote: ap,
            remoteInterface: radioIf(ap),
          });
          ap.peers.push({
            kind: 'radio',
            localInterface: radioIf(ap),
            remote: d,
            remoteInterface: radioIf(d),
          });
          break;
        }
      }
    } else if (d.board.ethernetPorts + d.board.sfpPorts > 0 && !['rb5009', 'ccr2004'].includes(d.board.id)) {
      for (let j = d.index - 1; j >= 0; j--) {
        const r = devices[j];
        if (r && ['rb5009', 'ccr2004'].includes(r.board.id)) {
          const port = r.board.ethernetPorts >= 2 ? 'ether2' : 'sfp-sfpplus1';
          d.peers.push({ kind: 'ether', localInterface: 'ether1', remote: r, remoteInterface: port });
          r.peers.push({ kind: 'ether', localInterface: port, remote: d, remoteInterface: 'ether1' });
          break;
        }
      }
    }
  }
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const host = opts.host ?? '127.0.0.1';
  const clock = opts.clock ?? systemClock;
  const rotation = opts.boards?.length ? opts.boards : DEFAULT_BOARD_ROTATION;
  const adminUser = opts.adminUser ?? 'admin';
  const adminPassword = opts.adminPassword ?? 'admin';
  const users: FleetUser[] = [...(opts.users ?? [])];
  const tlsCfg = opts.tls === undefined ? ({ mode: 'self-signed' } as const) : opts.tls;
  const tls: TlsOptions | undefined = tlsCfg ? tlsServerOptions(tlsCfg) : undefined;

  const devices: Device[] = [];
  for (let i = 0; i < opts.devices; i++) {
    const o = opts.overrides?.[i] ?? {};
    const board = boardById(o.board ?? (rotation[i % rotation.length] as string));
    const d = new Device({
      index: i,
      board,
      clock,
      adminPassword,
      users:
        adminUser === 'admin'
          ? users
          : [{ name: adminUser, password: adminPassword, group: 'full' }, ...users],
      ...(o.version ? { version: o.version } : {}),
      ...(o.loginMode ? { loginMode: o.loginMode } : {}),
      ...(o.emptyReply !== undefined ? { emptyReply: o.emptyReply } : {}),
      ...(o.identity ? { identity: o.identity } : {}),
      ...(o.updateStatus ? { updateStatus: o.updateStatus } : {}),
      ...(opts.rebootDurationMs !== undefined ? { rebootDurationMs: opts.rebootDurationMs } : {}),
    });
    installScripting(d);
    devices.push(d);
  }
  linkFleet(devices);

  const sims: SimDevice[] = devices.map(
    (d) =>
      new SimDevice(
        d,
        new DeviceServer(d, {
          host,
          ...(tls ? { tls } : {}),
          ...(opts.onSentence ? { onSentence: opts.onSentence } : {}),
        }),
      ),
  );
  const BATCH = 256;
  try {
    for (let i = 0; i < sims.length; i += BATCH)
      await Promise.all(sims.slice(i, i + BATCH).map((s) => s.server.start()));
  } catch (e) {
    await Promise.all(sims.map((s) => s.stop()));
    throw e;
  }

  const manifest: FleetManifest = {
    generatedAt: new Date(clock.now()).toISOString(),
    host,
    tls: tlsCfg ? tlsCfg.mode : 'none',
    credentials: { username: adminUser, password: adminPassword },
    users,
    devices: sims.map((s) => {
      const d = s.device;
      return {
        index: d.index,
        identity: d.identity,
        host,
        port: s.server.ports.api,
        ...(s.server.ports.apiSsl ? { tlsPort: s.server.ports.apiSsl } : {}),
        board: d.board.id,
        boardName: d.board.boardName,
        model: d.board.model,
        architecture: d.board.architecture,
        version: d.version,
        serial: d.serial,
        loginMode: d.loginMode,
        radio: d.board.radio,
        role: d.board.role,
      };
    }),
  };

  return {
    manifest,
    devices: sims,
    device(index) {
      const s = sims[index];
      if (!s) throw new RangeError(`no device ${index}`);
      return s;
    },
    async stop() {
      for (let i = 0; i < sims.length; i += BATCH)
        await Promise.all(sims.slice(i, i + BATCH).map((s) => s.stop()));
    },
  };
}
