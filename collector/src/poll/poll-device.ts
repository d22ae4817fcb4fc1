// One poll of one device: the poll's commands run at once on the device's session (each with its own tag),
// and their replies become events. A menu the device does not have (CHR has no routerboard, a switch has no
// wireless) is simply absent from the poll, not a failure.
import type { DeviceEvent, EventKind } from '@tod/contracts';
import type { z } from 'zod';
import { DeviceTrapError, type RouterSession } from '../routeros/session';
import {
  type CounterSnapshot,
  configMarker,
  parseHealth,
  parseInterfaces,
  parseRegistrations,
  parseResource,
  type Row,
} from './parse';

export interface DeviceIdentity {
  tenantId: string;
  deviceId: string;
  collectorId: string;
}

/** What the collector remembers about a device between polls. */
export interface PollMemory {
  counters?: CounterSnapshot;
  configMarker?: string;
}

export interface PollResult {
  events: z.input<typeof DeviceEvent>[];
  memory: PollMemory;
  latencyMs: number;
}

const MISSING_MENU = /no such command|no such item|unknown parameter/i;

/** Runs a print; a menu the device lacks yields undefined instead of failing the poll. */
async function optional(session: RouterSession, command: string): Promise<Row[] | undefined> {
  try {
    return await session.run(command);
  } catch (err) {
    if (err instanceof DeviceTrapError && MISSING_MENU.test(err.message)) return undefined;
    throw err;
  }
}

export async function pollDevice(
  session: RouterSession,
  device: DeviceIdentity,
  memory: PollMemory,
  clock: { now(): number },
  newId: () => string,
): Promise<PollResult> {
  const started = clock.now();
  const [resource, identity, routerboard, health, interfaces, wireless, wifi, history] = await Promise.all([
    session.run('/system/resource/print'),
    session.run('/system/identity/print'),
    optional(session, '/system/routerboard/print'),
    optional(session, '/system/health/print'),
    session.run('/interface/print'),
    optional(session, '/interface/wireless/registration-table/print'),
    optional(session, '/interface/wifi/registration-table/print'),
    optional(session, '/system/history/print'),
  ]);
  const now = clock.now();
  const at = new Date(now).toISOString();
  const event = <K extends EventKind>(kind: K, data: unknown) =>
    ({ v: 1, id: newId(), ...device, at, kind, data }) as z.input<typeof DeviceEvent>;

  const resourceData = parseResource(resource[0], identity[0], routerboard?.[0]);
  const ifaces = parseInterfaces(interfaces, memory.counters, {
    at: now,
    uptimeSeconds: resourceData.uptimeSeconds,
  });
  const events = [
    event('status', {
      status: 'online',
      tlsTier: session.tier,
      latencyMs: now - started,
      consecutiveFailures: 0,
    }),
    event('resource', resourceData),
    event('interfaces', { interfaces: ifaces.interfaces }),
  ];
  if (health?.length) events.push(event('health', parseHealth(health)));
  const clients = [...(wireless ?? []), ...(wifi ?? [])];
  if (wireless || wifi) events.push(event('wireless', { clients: parseRegistrations(clients) }));
  const nextMemory: PollMemory = { counters: ifaces.snapshot };
  if (history) {
    const marker = configMarker(history);
    nextMemory.configMarker = marker;
    if (memory.configMarker !== undefined && memory.configMarker !== marker) {
      events.push(event('config-changed', { marker, previousMarker: memory.configMarker }));
    }
  }
  return { events, memory: nextMemory, latencyMs: now - started };
}
