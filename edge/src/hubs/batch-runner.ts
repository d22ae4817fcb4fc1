// BatchRunner Durable Object, one per configuration batch (named by the batch id): runs the batch's devices
// through their collectors (config.apply or cli.run over the NATS command channel) with the batch's
// concurrency limit, records each device's result in Postgres, and streams progress to the tenant's SSE
// clients through its TenantHub (event `config-batch`, topic `config`). The rows are the state: after an
// eviction the watchdog alarm starts the runner again, which continues with the devices not yet started;
// a device that was running when the runner went away is marked failed (its outcome is unknown and a
// configuration change is never sent twice).
import { DurableObject } from 'cloudflare:workers';
import {
  type BatchCounts,
  type BatchItemState,
  CliRunResult,
  ConfigApplyResult,
  type ConfigBatchItem,
  type ConfigBatchProgress,
  type ConfigBatchSummary,
} from '@tod/contracts';
import { configBatches, configBatchItems } from '@tod/drizzle/schema';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type DbHandle, openDb, type Tx, withTenant } from '../db';
import type { Bindings } from '../env';
import { configFor } from '../middleware/config';
import { appendAudit } from '../services/audit';
import { batchSummaryDto, countItems, itemDto } from '../services/config-batches';
import { kmsFor } from '../services/kms-config';
import { type BatchChannel, type BatchDeviceRequest, openBatchChannel } from './batch-commands';

/** While a batch runs, the alarm fires this often: it restarts a runner that was evicted. */
const WATCHDOG_MS = 15_000;
/** A bulk CLI command's answer; applies wait for the device (and, in safe mode, for the revert set-up). */
const CLI_TIMEOUT_MS = 60_000;
const APPLY_TIMEOUT_MS = 120_000;

type BatchRow = typeof configBatches.$inferSelect;
type ItemRow = typeof configBatchItems.$inferSelect;

export class BatchRunner extends DurableObject<Bindings> {
  private tenantId: string | null = null;
  private batchId: string | null = null;
  private loop: Promise<void> | null = null;
  private cancelRequested = false;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.tenantId = (await ctx.storage.get<string>('tenantId')) ?? null;
      this.batchId = (await ctx.storage.get<string>('batchId')) ?? null;
    });
  }

  // ---- RPC from the Worker ----

  /** Starts running the batch (idempotent): the rows must already be stored. */
  async start(tenantId: string, batchId: string): Promise<void> {
    await this.bind(tenantId, batchId);
    this.ensureRunning();
  }

  /** Stops starting devices; the ones running finish, the rest are marked cancelled. */
  async cancel(tenantId: string, batchId: string): Promise<void> {
    await this.bind(tenantId, batchId);
    this.cancelRequested = true;
    this.ensureRunning();
  }

  override async alarm(): Promise<void> {
    if (!this.batchId) return;
    // Still running here: keep the watchdog armed, so an eviction later in a long batch is recovered too.
    if (this.loop) await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    else this.ensureRunning();
  }

  // ---- lifecycle ----

  private async bind(tenantId: string, batchId: string): Promise<void> {
    if (this.batchId && (this.batchId !== batchId || this.tenantId !== tenantId))
      throw new Error('this runner belongs to another batch');
    if (!this.batchId) {
      this.tenantId = tenantId;
      this.batchId = batchId;
      await this.ctx.storage.put({ tenantId, batchId });
    }
  }

  private ensureRunning(): void {
    if (this.loop) return;
    this.loop = (async () => {
      await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
      let finished = false;
      try {
        finished = await this.run();
      } catch (err) {
        this.log('batch run failed; the watchdog retries', err);
      } finally {
        this.loop = null;
        if (finished) await this.ctx.storage.deleteAlarm();
      }
    })();
  }

  // ---- one run: from the stored rows to the end of the batch ----

  /** Runs what is left of the batch; true when the batch is finished. */
  private async run(): Promise<boolean> {
    const cfg = configFor(this.env);
    const handle = openDb(cfg.DATABASE_URL);
    try {
      return await new BatchRun(this, handle, this.tenantId!, this.batchId!).run();
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** For BatchRun: cancellation asked through RPC since it started. */
  get cancelled(): boolean {
    return this.cancelRequested;
  }

  markCancelled(): void {
    this.cancelRequested = true;
  }

  async keepAlive(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
  }

  envBindings(): Bindings {
    return this.env;
  }

  log(msg: string, err: unknown): void {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: `batch runner: ${msg}`,
        tenantId: this.tenantId,
        batchId: this.batchId,
        error: err instanceof Error ? err.message : String(err),
      }),
    );
  }
}

/** The state of one run of a batch, in memory; every change is written through to Postgres. */
class BatchRun {
  private batch!: BatchRow;
  private readonly items = new Map<string, ItemRow>();
  private stop = false;
  private commands: BatchChannel | null = null;

  constructor(
    private readonly runner: BatchRunner,
    private readonly db: DbHandle,
    private readonly tenantId: string,
    private readonly batchId: string,
  ) {}

  private inTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTenant(this.db.db, this.tenantId, fn);
  }

  async run(): Promise<boolean> {
    const loaded = await this.inTenant(async (tx) => {
      const [b] = await tx.select().from(configBatches).where(eq(configBatches.id, this.batchId));
      const rows = await tx
        .select()
        .from(configBatchItems)
        .where(eq(configBatchItems.batchId, this.batchId))
        .orderBy(asc(configBatchItems.position));
      return b ? { b, rows } : null;
    });
    if (loaded?.b.state !== 'running') return true;
    this.batch = loaded.b;
    for (const r of loaded.rows) this.items.set(r.deviceId, r);
    if (this.batch.cancelRequestedAt) this.runner.markCancelled();

    // Devices that were running when a previous runner went away: their outcome is unknown.
    for (const r of loaded.rows.filter((i) => i.state === 'running')) {
      await this.finishItem(r.deviceId, {
        state: 'failed',
        output: null,
        error: 'interrupted: the batch runner restarted while this device was running; check the device',
      });
    }
    if (this.batch.stopOnFailure && this.hasFailure()) this.stop = true;
    await this.broadcast([...this.items.values()]);

    const queue = loaded.rows.filter((i) => i.state === 'pending').map((i) => i.deviceId);
    const worker = async () => {
      for (;;) {
        if (this.stop || this.runner.cancelled) return;
        const deviceId = queue.shift();
        if (!deviceId) return;
        await this.runItem(deviceId);
        if (this.batch.stopOnFailure && this.items.get(deviceId)!.state === 'failed') this.stop = true;
      }
    };
    if (queue.length > 0 && !this.stop && !this.runner.cancelled) {
      // One NATS connection for the run. When it cannot be opened, every device fails with the reason
      // (recorded and shown) rather than the batch retrying forever.
      try {
        this.commands = await openBatchChannel(this.runner.envBindings());
      } catch (err) {
        const reason = errorText(err);
        this.commands = {
          prepare: async () => null,
          send: async () => {
            throw new Error(reason);
          },
          close: async () => {},
        };
      }
      try {
        const workers = Math.min(this.batch.concurrency, queue.length);
        await Promise.all(Array.from({ length: workers }, worker));
      } finally {
        await this.commands.close().catch(() => {});
      }
    }
    await this.finishBatch();
    return true;
  }

  private channel(): BatchChannel {
    if (!this.commands) throw new Error('the command channel is not open');
    return this.commands;
  }

  private hasFailure(): boolean {
    for (const i of this.items.values()) if (i.state === 'failed') return true;
    return false;
  }

  private async runItem(deviceId: string): Promise<void> {
    const item = this.items.get(deviceId)!;
    const isCli = this.batch.kind === 'cli';
    const request: BatchDeviceRequest = {
      deviceId,
      kind: this.batch.kind,
      commands: item.commands,
      mode: this.batch.mode,
      timeoutSeconds: this.batch.timeoutSeconds,
      createdBy: this.batch.createdBy,
    };
    let operationId: string | null = null;
    try {
      operationId = await this.inTenant((tx) => this.channel().prepare(tx, this.tenantId, request));
    } catch (err) {
      await this.finishItem(deviceId, { state: 'failed', output: null, error: errorText(err) });
      return;
    }
    await this.updateItem(deviceId, { state: 'running', startedAt: new Date(), operationId });
    await this.runner.keepAlive();
    let outcome: { state: BatchItemState; output: string | null; error: string | null };
    try {
      const reply = await this.channel().send(
        (fn) => this.inTenant(fn),
        this.tenantId,
        request,
        operationId,
        isCli ? CLI_TIMEOUT_MS : APPLY_TIMEOUT_MS,
      );
      if (!reply.ok) outcome = { state: 'failed', output: null, error: reply.error.message };
      else if (isCli) {
        const r = CliRunResult.safeParse(reply.result);
        outcome = r.success
          ? { state: 'succeeded', output: r.data.output, error: null }
          : { state: 'failed', output: null, error: 'the collector sent an answer that is not a CLI result' };
      } else {
        const r = ConfigApplyResult.safeParse(reply.result);
        if (!r.success)
          outcome = {
            state: 'failed',
            output: null,
            error: 'the collector sent an answer that is not an apply result',
          };
        else if (r.data.state === 'failed' || r.data.state === 'reverted')
          outcome = {
            state: 'failed',
            output: r.data.state,
            error: r.data.error ?? `the change was ${r.data.state}`,
          };
        else
          outcome = {
            state: 'succeeded',
            output:
              r.data.state === 'pending-confirmation'
                ? `pending confirmation${r.data.confirmDeadline ? ` until ${r.data.confirmDeadline}` : ''}`
                : r.data.state,
            error: null,
          };
      }
    } catch (err) {
      outcome = { state: 'failed', output: null, error: errorText(err) };
    }
    await this.finishItem(deviceId, outcome);
  }

  private async finishItem(
    deviceId: string,
    o: { state: BatchItemState; output: string | null; error: string | null },
  ): Promise<void> {
    await this.updateItem(deviceId, { ...o, finishedAt: new Date() });
  }

  private async updateItem(deviceId: string, patch: Partial<ItemRow>): Promise<void> {
    const [row] = await this.inTenant((tx) =>
      tx
        .update(configBatchItems)
        .set(patch)
        .where(and(eq(configBatchItems.batchId, this.batchId), eq(configBatchItems.deviceId, deviceId)))
        .returning(),
    );
    if (row) this.items.set(deviceId, row);
    await this.broadcast(row ? [row] : []);
  }

  private async finishBatch(): Promise<void> {
    const cancelled = this.runner.cancelled;
    const leftover: BatchItemState = cancelled ? 'cancelled' : 'skipped';
    const state = cancelled ? 'cancelled' : this.stop ? 'stopped' : 'completed';
    const { batch, rows } = await this.inTenant(async (tx) => {
      const rows = await tx
        .update(configBatchItems)
        .set({
          state: leftover,
          finishedAt: new Date(),
          error: cancelled ? 'cancelled before it started' : 'not started: an earlier device failed',
        })
        .where(and(eq(configBatchItems.batchId, this.batchId), eq(configBatchItems.state, 'pending')))
        .returning();
      const [batch] = await tx
        .update(configBatches)
        .set({ state, finishedAt: sql`now()` })
        .where(and(eq(configBatches.id, this.batchId), eq(configBatches.state, 'running')))
        .returning();
      for (const r of rows) this.items.set(r.deviceId, r);
      if (batch) {
        const counts = this.counts();
        await appendAudit(
          {
            tx,
            kms: kmsFor(this.runner.envBindings()),
            tenantId: this.tenantId,
            actor: { type: 'system', id: null },
            ip: null,
            userAgent: null,
            requestId: `config-batch:${this.batchId}`,
          },
          {
            action: 'config_batch.finish',
            targetType: 'config_batch',
            targetId: this.batchId,
            outcome: counts.failed > 0 || state !== 'completed' ? 'failure' : 'success',
            details: { state, ...counts },
          },
        );
      }
      return { batch, rows };
    });
    if (batch) this.batch = batch;
    await this.broadcast(rows);
  }

  private counts(): BatchCounts {
    return countItems([...this.items.values()].map((i) => i.state));
  }

  private summary(): ConfigBatchSummary {
    return batchSummaryDto(this.batch, this.counts());
  }

  /** Progress to the tenant's SSE clients; never fails the batch. */
  private async broadcast(changed: ItemRow[]): Promise<void> {
    const env = this.runner.envBindings();
    const items: ConfigBatchItem[] = changed.map(itemDto);
    const progress: ConfigBatchProgress = { batch: this.summary(), items };
    try {
      await env.TENANT_HUB.get(env.TENANT_HUB.idFromName(this.tenantId)).configBatchProgress(
        this.tenantId,
        progress,
      );
    } catch (err) {
      this.runner.log('progress not streamed', err);
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 4000);
}
