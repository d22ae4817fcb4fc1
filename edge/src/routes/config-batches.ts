// /api/config-batches: one change, template, script or bulk CLI command over a selection of devices
// (issue #8). The route resolves the selection inside the tenant, plans each device's commands, stores the
// batch and its items, and hands it to its BatchRunner Durable Object, which runs it and streams progress
// (SSE `config-batch`). Viewers read batches and reports; operators start and cancel them.
import {
  type BatchCounts,
  type BatchItemState,
  ConfigBatchListQuery,
  type ConfirmBatchResponse,
  CreateConfigBatchRequest,
} from '@tod/contracts';
import { configBatches, configBatchItems, configOperations } from '@tod/drizzle/schema';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { CollectorCommandError, CollectorCommands, commandRoute } from '../services/collector-commands';
import {
  batchSummaryDto,
  emptyCounts,
  getTemplate,
  loadBatch,
  planItems,
  resolveSelection,
} from '../services/config-batches';
import { advanceOperation } from '../services/config-operations';
import { pathId, readBody, readQuery } from '../validate';
import { decodeCursor, encodeCursor, iso } from './dto';

export const configBatchesRoute = new Hono<AppEnv>();

export function batchRunner(c: Context<AppEnv>, batchId: string) {
  return c.env.BATCH_RUNNER.get(c.env.BATCH_RUNNER.idFromName(batchId));
}

const notFound = () => new ApiError(404, 'not_found', 'batch not found');

configBatchesRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateConfigBatchRequest);
  const tenantId = c.var.tenantId;
  const batchId = await inTenant(c, async (s) => {
    const template = body.action.kind === 'template' ? await getTemplate(s.tx, body.action.templateId) : null;
    const selected = await resolveSelection(s.tx, body.selection);
    const plan = planItems(body.action, template, selected);
    const [b] = await s.tx
      .insert(configBatches)
      .values({
        tenantId: s.tenantId,
        kind: body.action.kind,
        action: body.action,
        templateId: template?.id ?? null,
        mode: body.action.kind === 'cli' ? 'standard' : body.mode,
        timeoutSeconds: body.timeoutSeconds,
        concurrency: body.concurrency,
        stopOnFailure: body.stopOnFailure,
        note: body.note ?? null,
        createdBy: s.principal.userId,
      })
      .returning({ id: configBatches.id });
    const now = new Date();
    await s.tx.insert(configBatchItems).values(
      plan.map((p, position) => ({
        tenantId: s.tenantId,
        batchId: b!.id,
        deviceId: p.device.id,
        position,
        deviceName: p.device.name,
        commands: p.commands,
        // A template that does not render for a device fails that device before anything is sent.
        ...(p.error ? { state: 'failed' as const, error: p.error, finishedAt: now } : {}),
      })),
    );
    await s.audit({
      action: 'config_batch.create',
      targetType: 'config_batch',
      targetId: b!.id,
      details: {
        kind: body.action.kind,
        mode: body.mode,
        devices: plan.length,
        notRendered: plan.filter((p) => p.error).length,
        concurrency: body.concurrency,
        stopOnFailure: body.stopOnFailure,
        ...(template ? { templateId: template.id, templateName: template.name } : {}),
        ...(body.note ? { note: body.note } : {}),
      },
    });
    return b!.id;
  });
  await batchRunner(c, batchId).start(tenantId, batchId);
  const batch = await inTenant(c, ({ tx }) => loadBatch(tx, batchId));
  return c.json({ batch }, 202);
});

configBatchesRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, ConfigBatchListQuery);
  const where: SQL[] = [];
  if (q.state) where.push(eq(configBatches.state, q.state));
  if (q.cursor) {
    const cur = decodeCursor(q.cursor);
    if (!cur || Number.isNaN(Date.parse(cur[0])))
      throw new ApiError(400, 'invalid_request', 'invalid cursor');
    where.push(
      sql`(${configBatches.createdAt}, ${configBatches.id}) < (${cur[0]}::timestamptz, ${cur[1]}::uuid)`,
    );
  }
  const rows = await inTenant(c, async ({ tx }) => {
    const batches = await tx
      .select()
      .from(configBatches)
      .where(and(...where))
      .orderBy(desc(configBatches.createdAt), desc(configBatches.id))
      .limit(q.limit + 1);
    const ids = batches.map((b) => b.id);
    const counts = ids.length
      ? await tx
          .select({
            batchId: configBatchItems.batchId,
            state: configBatchItems.state,
            n: sql<number>`count(*)::int`,
          })
          .from(configBatchItems)
          .where(sql`${configBatchItems.batchId} IN ${ids}`)
          .groupBy(configBatchItems.batchId, configBatchItems.state)
      : [];
    const byBatch = new Map<string, BatchCounts>();
    for (const r of counts) {
      const cnt = byBatch.get(r.batchId) ?? emptyCounts();
      cnt[r.state as BatchItemState] += r.n;
      cnt.total += r.n;
      byBatch.set(r.batchId, cnt);
    }
    return batches.map((b) => ({ b, counts: byBatch.get(b.id) ?? emptyCounts() }));
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json({
    items: page.map((r) => batchSummaryDto(r.b, r.counts)),
    nextCursor: rows.length > q.limit && last ? encodeCursor(iso(last.b.createdAt)!, last.b.id) : null,
  });
});

configBatchesRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const batch = await inTenant(c, ({ tx }) => loadBatch(tx, id));
  if (!batch) throw notFound();
  return c.json(batch);
});

// Devices already running finish; the ones not started are marked cancelled.
configBatchesRoute.post('/:id/cancel', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const tenantId = c.var.tenantId;
  const state = await inTenant(c, async (s) => {
    const [b] = await s.tx
      .select({ state: configBatches.state })
      .from(configBatches)
      .where(eq(configBatches.id, id));
    if (!b) throw notFound();
    if (b.state !== 'running') return b.state;
    await s.tx
      .update(configBatches)
      .set({ cancelRequestedAt: sql`COALESCE(${configBatches.cancelRequestedAt}, now())` })
      .where(eq(configBatches.id, id));
    await s.audit({ action: 'config_batch.cancel', targetType: 'config_batch', targetId: id });
    return b.state;
  });
  if (state !== 'running') throw new ApiError(409, 'conflict', `the batch is already ${state}`);
  await batchRunner(c, id).cancel(tenantId, id);
  const batch = await inTenant(c, ({ tx }) => loadBatch(tx, id));
  return c.json(batch);
});

/** A safe batch's changes wait for confirmation on each device: this confirms every one still waiting (the
 * device removes its revert), in one request. Devices that already reverted are recorded as reverted. */
const CONFIRM_CONCURRENCY = 10;
const CONFIRM_TIMEOUT_MS = 30_000;

configBatchesRoute.post('/:id/confirm', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const tenantId = c.var.tenantId;
  const waiting = await inTenant(c, async (s) => {
    const [b] = await s.tx
      .select({ mode: configBatches.mode })
      .from(configBatches)
      .where(eq(configBatches.id, id));
    if (!b) throw notFound();
    if (b.mode !== 'safe') throw new ApiError(409, 'conflict', 'only a safe batch waits for confirmation');
    const rows = await s.tx
      .select({ deviceId: configBatchItems.deviceId, operationId: configOperations.id })
      .from(configBatchItems)
      .innerJoin(configOperations, eq(configOperations.id, configBatchItems.operationId))
      .where(and(eq(configBatchItems.batchId, id), eq(configOperations.state, 'pending-confirmation')));
    await s.audit({
      action: 'config_batch.confirm',
      targetType: 'config_batch',
      targetId: id,
      details: { devices: rows.length },
    });
    return rows;
  });
  const results: {
    deviceId: string;
    operationId: string;
    state: 'confirmed' | 'reverted' | 'failed';
    error: string | null;
  }[] = [];
  if (waiting.length > 0) {
    let cc: CollectorCommands;
    try {
      cc = await CollectorCommands.connect(c.env);
    } catch (err) {
      throw new ApiError(409, 'collector_offline', err instanceof Error ? err.message : String(err));
    }
    try {
      const queue = [...waiting];
      const worker = async () => {
        for (let w = queue.shift(); w; w = queue.shift()) {
          try {
            const route = await inTenant(c, (s) => commandRoute(s.tx, tenantId, w.deviceId));
            const reply = await cc.send(
              route,
              { op: 'config.confirm', deviceId: w.deviceId, operationId: w.operationId },
              { timeoutMs: CONFIRM_TIMEOUT_MS },
            );
            const state = reply.ok
              ? 'confirmed'
              : reply.error.code === 'already_reverted'
                ? 'reverted'
                : 'failed';
            if (state !== 'failed')
              await inTenant(c, (s) =>
                advanceOperation(s.tx, tenantId, w.operationId, {
                  state,
                  ...(state === 'reverted'
                    ? {
                        error:
                          'not confirmed in time: the device restored the configuration saved before the change',
                      }
                    : {}),
                }),
              );
            results.push({ ...w, state, error: reply.ok ? null : reply.error.message });
          } catch (err) {
            const message =
              err instanceof CollectorCommandError || err instanceof Error ? err.message : String(err);
            results.push({ ...w, state: 'failed', error: message });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONFIRM_CONCURRENCY, waiting.length) }, worker));
    } finally {
      await cc.close();
    }
    // The report says what happened to each change.
    await inTenant(c, async (s) => {
      for (const r of results.filter((x) => x.state !== 'failed'))
        await s.tx
          .update(configBatchItems)
          .set({ output: r.state })
          .where(and(eq(configBatchItems.batchId, id), eq(configBatchItems.deviceId, r.deviceId)));
    });
  }
  return c.json<ConfirmBatchResponse>({
    confirmed: results.filter((r) => r.state === 'confirmed').length,
    reverted: results.filter((r) => r.state === 'reverted').length,
    failed: results
      .filter((r) => r.state === 'failed')
      .map((r) => ({ deviceId: r.deviceId, error: r.error })),
  });
});
