// Edge → collector requests (contracts/src/commands.ts) over NATS request/reply on `tod.cmd.<tenant>.<collector>`.
// Routing: the device's collector and, for a site with several collectors (an HA group), the one holding the
// device's lease in `tod-leases` first, then the others (a peer without the lease answers `not_leased`).
// Failures to reach any collector are typed (CollectorCommandError) so routes answer 503/504-free states
// (409 `collector_offline`, 504 `collector_timeout`), never a 500.
//
//   const route = await commandRoute(tx, tenantId, deviceId);          // inside the tenant transaction
//   const reply = await sendCollectorCommand(env, route, { op: 'menu.print', deviceId, path }, { timeoutMs });
//   // or, resolving the route in a transaction of its own:
//   const reply = await sendDeviceCommand(env, c.var.openDb(), tenantId, deviceId, request, { timeoutMs });
//
// For many devices, open one connection: `const cc = await CollectorCommands.connect(env)`, `cc.send(...)` per
// device, `cc.close()`.
import { Kvm } from '@nats-io/kv';
import { RequestError, TimeoutError, type wsconnect } from '@nats-io/nats-core';
import {
  COMMAND_RESULTS,
  CollectorCommand,
  type CollectorCommandInput,
  type CommandOp,
  CommandReply,
  type CommandReplyOf,
  commandSubject,
  DeviceLease,
  LEASES_BUCKET,
  leaseKey,
} from '@tod/contracts';
import { collectors, devices } from '@tod/drizzle/schema';
import { and, eq } from 'drizzle-orm';
import { type Db, type Tx, withTenant } from '../db';
import type { Bindings } from '../env';
import { configFor } from '../middleware/config';
import { connectEdge, edgeNatsFrom } from './nats-auth';

export type CollectorCommandErrorCode =
  | 'no_collector'
  | 'collector_offline'
  | 'collector_timeout'
  | 'nats_unavailable';

export class CollectorCommandError extends Error {
  constructor(
    readonly code: CollectorCommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface CommandRoute {
  tenantId: string;
  deviceId: string;
  /** The device's collector first, then the other enrolled collectors of its site. */
  collectorIds: string[];
}

/** Which collectors may serve the device (read in the tenant's transaction, RLS applies). */
export async function commandRoute(tx: Tx, tenantId: string, deviceId: string): Promise<CommandRoute> {
  const [d] = await tx
    .select({ collectorId: devices.collectorId })
    .from(devices)
    .where(and(eq(devices.tenantId, tenantId), eq(devices.id, deviceId)));
  if (!d?.collectorId) throw new CollectorCommandError('no_collector', 'the device has no collector');
  const [own] = await tx
    .select({ id: collectors.id, site: collectors.site, status: collectors.status })
    .from(collectors)
    .where(and(eq(collectors.tenantId, tenantId), eq(collectors.id, d.collectorId)));
  if (!own || own.status === 'revoked')
    throw new CollectorCommandError('no_collector', 'the device has no collector');
  const peers =
    own.site === ''
      ? []
      : await tx
          .select({ id: collectors.id, status: collectors.status })
          .from(collectors)
          .where(and(eq(collectors.tenantId, tenantId), eq(collectors.site, own.site)));
  const others = peers
    .filter((p) => p.id !== own.id && p.status !== 'revoked' && p.status !== 'pending')
    .map((p) => p.id)
    .sort();
  return { tenantId, deviceId, collectorIds: [own.id, ...others] };
}

type Conn = Awaited<ReturnType<typeof wsconnect>>;

export class CollectorCommands {
  private constructor(private readonly nc: Conn) {}

  static async connect(env: Bindings): Promise<CollectorCommands> {
    try {
      return new CollectorCommands(await connectEdge(edgeNatsFrom(configFor(env)), 'tod-edge-commands'));
    } catch (err) {
      throw new CollectorCommandError('nats_unavailable', `NATS: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  /** The lease holder of a shared device first. */
  private async ordered(route: CommandRoute): Promise<string[]> {
    if (route.collectorIds.length < 2) return route.collectorIds;
    try {
      const kv = await new Kvm(this.nc).open(LEASES_BUCKET);
      const entry = await kv.get(leaseKey(route.tenantId, route.deviceId));
      const lease = entry?.value?.length ? DeviceLease.safeParse(entry.json()) : null;
      const holder = lease?.success ? lease.data.collectorId : null;
      if (holder && route.collectorIds.includes(holder))
        return [holder, ...route.collectorIds.filter((c) => c !== holder)];
    } catch {
      // no lease bucket yet: try in order
    }
    return route.collectorIds;
  }

  async send<O extends CommandOp>(
    route: CommandRoute,
    request: Extract<CollectorCommandInput, { op: O }>,
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandReplyOf<O>> {
    const body = JSON.stringify(CollectorCommand.parse(request));
    const timeout = opts.timeoutMs ?? 30_000;
    let offline = 0;
    let last: CommandReplyOf<O> | undefined;
    for (const collectorId of await this.ordered(route)) {
      let raw: unknown;
      try {
        const msg = await this.nc.request(commandSubject(route.tenantId, collectorId), body, { timeout });
        raw = msg.json();
      } catch (err) {
        if (err instanceof RequestError && err.isNoResponders()) {
          offline++;
          continue;
        }
        if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError))
          throw new CollectorCommandError(
            'collector_timeout',
            `the collector did not answer within ${timeout} ms`,
          );
        throw new CollectorCommandError('nats_unavailable', `NATS: ${(err as Error).message.slice(0, 200)}`);
      }
      const reply = CommandReply.safeParse(raw);
      if (!reply.success)
        throw new CollectorCommandError('nats_unavailable', 'the collector sent an unreadable reply');
      if (!reply.data.ok) {
        last = reply.data;
        // A peer that does not poll the device now (or does not know it yet): ask the next one.
        if (reply.data.error.code === 'not_leased' || reply.data.error.code === 'unknown_device') continue;
        return reply.data;
      }
      const result = COMMAND_RESULTS[request.op].safeParse(reply.data.result);
      if (!result.success)
        throw new CollectorCommandError('nats_unavailable', 'the collector sent an unreadable result');
      return { ok: true, result: result.data } as CommandReplyOf<O>;
    }
    if (last) return last;
    throw new CollectorCommandError(
      'collector_offline',
      offline ? 'no collector of the device is online' : 'the device has no collector',
    );
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
  }
}

/** One request on a connection of its own. */
export async function sendCollectorCommand<O extends CommandOp>(
  env: Bindings,
  route: CommandRoute,
  request: Extract<CollectorCommandInput, { op: O }>,
  opts: { timeoutMs?: number } = {},
): Promise<CommandReplyOf<O>> {
  const cc = await CollectorCommands.connect(env);
  try {
    return await cc.send(route, request, opts);
  } finally {
    await cc.close();
  }
}

/** The contract's shape (`sendCollectorCommand(env, tenantId, deviceId, request)`): resolves the route in a
 * short tenant transaction of its own, then sends outside it. `db` is the request's (`c.var.openDb()`). */
export async function sendDeviceCommand<O extends CommandOp>(
  env: Bindings,
  db: Db,
  tenantId: string,
  deviceId: string,
  request: Extract<CollectorCommandInput, { op: O }>,
  opts: { timeoutMs?: number } = {},
): Promise<CommandReplyOf<O>> {
  const route = await withTenant(db, tenantId, (tx) => commandRoute(tx, tenantId, deviceId));
  return sendCollectorCommand(env, route, request, opts);
}
