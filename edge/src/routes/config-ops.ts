// Single-device configuration (issue #8): live menu reads, preview of the exact RouterOS commands, standard and
// safe apply, confirm, restore of a snapshot through safe apply, and binary backups. The edge asks the device's
// collector over NATS (services/collector-commands.ts) outside any database transaction; the operation row is
// written first (state `applying`), then moved forward by the collector's reply and its `config-operation`
// events (hubs/config-ops-sink.ts). Viewers read menus (secrets masked) and operations; operators change.
import {
  ApplyBody,
  BinaryBackupBody,
  type CommandError,
  changesToCommands,
  isSensitiveField,
  MASKED_VALUE,
  MenuQuery,
  type MenuResponse,
  OperationListQuery,
  PreviewBody,
  RestoreBody,
} from '@tod/contracts';
import { configSnapshots, devices } from '@tod/drizzle/schema';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import {
  CollectorCommandError,
  type CommandRoute,
  commandRoute,
  sendCollectorCommand,
} from '../services/collector-commands';
import { snapshotText } from '../services/config-backups';
import {
  advanceFromReply,
  advanceOperation,
  createOperation,
  getOperation,
  listOperations,
  type OperationRow,
  operationDto,
} from '../services/config-operations';
import { pathId, readBody, readQuery } from '../validate';

/** How long the edge waits for the collector: reads are quick; an apply saves a backup and runs every line. */
const READ_TIMEOUT_MS = 20_000;
const APPLY_TIMEOUT_MS = 90_000;

async function requireDevice(s: TenantScope, deviceId: string): Promise<void> {
  const [d] = await s.tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.tenantId, s.tenantId), eq(devices.id, deviceId)));
  if (!d) throw new ApiError(404, 'not_found', 'device not found');
}

async function routeFor(s: TenantScope, deviceId: string): Promise<CommandRoute> {
  await requireDevice(s, deviceId);
  try {
    return await commandRoute(s.tx, s.tenantId, deviceId);
  } catch (err) {
    if (err instanceof CollectorCommandError) throw new ApiError(409, 'no_collector', err.message);
    throw err;
  }
}

const COMMAND_STATUS: Record<CommandError['code'], ContentfulStatusCode> = {
  invalid_request: 400,
  unknown_device: 409,
  not_leased: 409,
  device_unreachable: 409,
  auth_failed: 409,
  tls_failed: 409,
  device_error: 422,
  not_pending: 409,
  already_reverted: 409,
  busy: 409,
  internal: 502,
};

function commandFailed(error: CommandError): ApiError {
  return new ApiError(COMMAND_STATUS[error.code], error.code, error.message);
}

function transportFailed(err: CollectorCommandError): ApiError {
  return err.code === 'collector_timeout'
    ? new ApiError(504, err.code, err.message)
    : new ApiError(409, err.code === 'nats_unavailable' ? 'collector_offline' : err.code, err.message);
}

async function ask<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CollectorCommandError) throw transportFailed(err);
    throw err;
  }
}

const maskFor = (s: TenantScope) => ({ maskSecrets: s.principal.role === 'viewer' });

// ---- /api/devices/:id/config/* ---------------------------------------------------------------------------

export const deviceConfigRoute = new Hono<AppEnv>();

deviceConfigRoute.get('/:id/config/menu', requireRole('viewer'), async (c) => {
  const deviceId = pathId(c);
  const q = readQuery(c, MenuQuery);
  const { route, viewer } = await inTenant(c, async (s) => ({
    route: await routeFor(s, deviceId),
    viewer: s.principal.role === 'viewer',
  }));
  const reply = await ask(() =>
    sendCollectorCommand(
      c.env,
      route,
      { op: 'menu.print', deviceId, path: q.path },
      { timeoutMs: READ_TIMEOUT_MS },
    ),
  );
  if (!reply.ok) throw commandFailed(reply.error);
  const fields: string[] = [];
  const seen = new Set<string>();
  const rows = reply.result.rows.map((r) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        fields.push(k);
      }
      out[k] = viewer && isSensitiveField(k) && v !== '' ? MASKED_VALUE : v;
    }
    return out;
  });
  return c.json({ path: q.path, rows, fields } satisfies MenuResponse);
});

deviceConfigRoute.post('/:id/config/preview', requireRole('viewer'), async (c) => {
  const deviceId = pathId(c);
  const body = await readBody(c, PreviewBody);
  const commands = changesToCommands(body.changes);
  await inTenant(c, async (s) => {
    await requireDevice(s, deviceId);
    // A POST like every write: traced, though it changes nothing.
    await s.audit({
      action: 'config.preview',
      targetType: 'device',
      targetId: deviceId,
      details: { changes: body.changes.length },
    });
  });
  return c.json({ commands });
});

/** Sends config.apply for an operation written before, and records the reply. */
async function runApply(
  c: Context<AppEnv>,
  route: CommandRoute,
  op: OperationRow,
  lines: string[],
  flags: { script: boolean; replace: boolean },
): Promise<OperationRow> {
  let outcome: { state: 'failed'; error: string; status: ContentfulStatusCode; code: string } | undefined;
  let result: Parameters<typeof advanceFromReply>[2] | undefined;
  try {
    const reply = await sendCollectorCommand(
      c.env,
      route,
      {
        op: 'config.apply',
        deviceId: op.deviceId,
        operationId: op.id,
        commands: lines,
        script: flags.script,
        replace: flags.replace,
        mode: op.mode,
        timeoutSeconds: op.timeoutSeconds ?? 300,
      },
      { timeoutMs: APPLY_TIMEOUT_MS },
    );
    if (reply.ok) result = reply.result;
    else
      outcome = {
        state: 'failed',
        error: reply.error.message,
        status: COMMAND_STATUS[reply.error.code],
        code: reply.error.code,
      };
  } catch (err) {
    if (!(err instanceof CollectorCommandError)) throw err;
    // A timeout leaves the operation `applying`: the collector may still finish it and report by event.
    if (err.code === 'collector_timeout') return op;
    const mapped = transportFailed(err);
    outcome = { state: 'failed', error: err.message, status: mapped.status, code: mapped.code };
  }
  const updated = await inTenant(c, async (s) =>
    result
      ? await advanceFromReply(s.tx, s.tenantId, result)
      : await advanceOperation(s.tx, s.tenantId, op.id, { state: 'failed', error: outcome!.error }),
  );
  if (outcome && outcome.code !== 'device_error' && outcome.code !== 'device_unreachable')
    throw new ApiError(outcome.status, outcome.code, outcome.error);
  return updated ?? (await inTenant(c, (s) => getOperation(s.tx, s.tenantId, op.id))) ?? op;
}

deviceConfigRoute.post('/:id/config/apply', requireRole('operator'), async (c) => {
  const deviceId = pathId(c);
  const body = await readBody(c, ApplyBody);
  const lines = body.changes ? changesToCommands(body.changes) : [body.script!];
  const { route, op, mask } = await inTenant(c, async (s) => {
    const route = await routeFor(s, deviceId);
    const op = await createOperation(s.tx, {
      tenantId: s.tenantId,
      deviceId,
      kind: body.changes ? 'changes' : 'script',
      mode: body.mode,
      commands: lines,
      createdBy: s.principal.userId,
      timeoutSeconds: body.mode === 'safe' ? body.timeoutSeconds : null,
    });
    await s.audit({
      action: 'config.apply',
      targetType: 'device',
      targetId: deviceId,
      details: { operationId: op.id, mode: body.mode, kind: op.kind, commands: lines.length },
    });
    return { route, op, mask: maskFor(s) };
  });
  const done = await runApply(c, route, op, lines, { script: !body.changes, replace: false });
  return c.json({ operation: operationDto(done, mask) }, 202);
});

deviceConfigRoute.post('/:id/config/binary-backup', requireRole('operator'), async (c) => {
  const deviceId = pathId(c);
  const body = c.req.header('content-type') ? await readBody(c, BinaryBackupBody) : {};
  const route = await inTenant(c, async (s) => {
    const route = await routeFor(s, deviceId);
    await s.audit({ action: 'config.binary_backup', targetType: 'device', targetId: deviceId });
    return route;
  });
  const reply = await ask(() =>
    sendCollectorCommand(
      c.env,
      route,
      { op: 'backup.binary', deviceId, ...(body.name ? { name: body.name } : {}) },
      { timeoutMs: APPLY_TIMEOUT_MS },
    ),
  );
  if (!reply.ok) throw commandFailed(reply.error);
  return c.json(reply.result);
});

// ---- /api/config-operations ------------------------------------------------------------------------------

export const configOperationsRoute = new Hono<AppEnv>();

configOperationsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, OperationListQuery);
  const page = await inTenant(c, async (s) => {
    const p = await listOperations(s.tx, s.tenantId, q);
    const mask = maskFor(s);
    return { items: p.items.map((r) => operationDto(r, mask)), nextCursor: p.nextCursor };
  });
  return c.json(page);
});

configOperationsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const dto = await inTenant(c, async (s) => {
    const row = await getOperation(s.tx, s.tenantId, id);
    if (!row) throw new ApiError(404, 'not_found', 'operation not found');
    return operationDto(row, maskFor(s));
  });
  return c.json(dto);
});

configOperationsRoute.post('/:id/confirm', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const { op, route } = await inTenant(c, async (s) => {
    const op = await getOperation(s.tx, s.tenantId, id);
    if (!op) throw new ApiError(404, 'not_found', 'operation not found');
    if (op.state !== 'pending-confirmation')
      throw new ApiError(409, 'not_pending', `the operation is ${op.state}, not pending confirmation`);
    const route = await routeFor(s, op.deviceId);
    await s.audit({
      action: 'config.confirm',
      targetType: 'device',
      targetId: op.deviceId,
      details: { operationId: op.id },
    });
    return { op, route };
  });
  const reply = await ask(() =>
    sendCollectorCommand(
      c.env,
      route,
      { op: 'config.confirm', deviceId: op.deviceId, operationId: op.id },
      { timeoutMs: READ_TIMEOUT_MS },
    ),
  );
  if (!reply.ok) {
    if (reply.error.code === 'already_reverted')
      await inTenant(c, (s) =>
        advanceOperation(s.tx, s.tenantId, op.id, {
          state: 'reverted',
          error: 'not confirmed in time: the device restored the configuration saved before the change',
        }),
      );
    throw commandFailed(reply.error);
  }
  const dto = await inTenant(c, async (s) => {
    const row =
      (await advanceOperation(s.tx, s.tenantId, op.id, { state: 'confirmed' })) ??
      (await getOperation(s.tx, s.tenantId, op.id));
    return operationDto(row!, maskFor(s));
  });
  return c.json(dto);
});

// ---- /api/config-backups/:id/restore ---------------------------------------------------------------------

export const configRestoreRoute = new Hono<AppEnv>();

// Restores a snapshot through safe apply: the device first saves its current configuration and arms the
// revert, then replaces its configuration with the snapshot's; the user confirms or it reverts.
configRestoreRoute.post('/:id/restore', requireRole('operator'), async (c) => {
  const snapshotId = pathId(c);
  const body = await readBody(c, RestoreBody);
  const { route, op, text, mask } = await inTenant(c, async (s) => {
    const [snap] = await s.tx
      .select()
      .from(configSnapshots)
      .where(and(eq(configSnapshots.tenantId, s.tenantId), eq(configSnapshots.id, snapshotId)));
    if (!snap) throw new ApiError(404, 'not_found', 'snapshot not found');
    const route = await routeFor(s, snap.deviceId);
    const text = await snapshotText(s.envelope, snap);
    const op = await createOperation(s.tx, {
      tenantId: s.tenantId,
      deviceId: snap.deviceId,
      kind: 'restore',
      mode: body.mode,
      // Never the export text itself: it may hold secrets, and operations are readable by viewers.
      commands: [
        `# restore configuration snapshot v${snap.seq} (${snap.id})`,
        ...(snap.sensitive
          ? []
          : ['# exported without secrets: entries with passwords or keys are re-added without them']),
      ],
      createdBy: s.principal.userId,
      timeoutSeconds: body.timeoutSeconds,
      snapshotId: snap.id,
    });
    await s.audit({
      action: 'config.restore',
      targetType: 'device',
      targetId: snap.deviceId,
      details: { operationId: op.id, snapshotId: snap.id, seq: snap.seq, mode: body.mode },
    });
    return { route, op, text, mask: maskFor(s) };
  });
  const done = await runApply(c, route, op, [text], { script: true, replace: true });
  return c.json({ operation: operationDto(done, mask) }, 202);
});
