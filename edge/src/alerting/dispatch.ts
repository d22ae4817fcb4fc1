// From engine transitions to stored alerts and sent notifications. The TenantHub calls, per tenant:
//   loadAlertingSnapshot(tx)                      rules, group/tag membership, maintenance windows
//   recordTransitions(tx, tenantId, ts, snap, now) inside the batch's transaction: alert rows + queued deliveries
//   deliverDue({ db, tenantId, kms, deps, now })   after commit and from the alarm: sends what is due
// Recording is idempotent (one firing alert per rule/device/subject, one delivery per alert change and
// channel), so a replayed batch stores nothing twice. Sending happens outside any ingest transaction, is
// retried with backoff and recorded, and never throws into the caller.
import type { AlertNotice, ChannelSecrets } from '@tod/contracts';
import {
  alertRuleChannels,
  alertRules,
  alerts,
  deviceGroupMembers,
  devices,
  deviceTags,
  maintenanceWindows,
  notificationChannels,
  notificationDeliveries,
} from '@tod/drizzle/schema';
import { and, asc, eq, inArray, isNotNull, lte, min } from 'drizzle-orm';
import { type Db, type Tx, withTenant } from '../db';
import { openJson, sealJson } from '../services/envelope';
import type { Kms } from '../services/kms';
import { type NotifyDeps, type SendResult, sendNotice } from '../services/notify';
import type { AlertTransition, EngineRule, Membership } from './engine';
import { inMaintenance, type WindowSpec } from './maintenance';

export interface AlertingSnapshot {
  rules: EngineRule[];
  membership: Membership;
  windows: WindowSpec[];
}

type AlertRow = typeof alerts.$inferSelect;
export interface RecordedAlert {
  kind: 'fired' | 'resolved';
  alert: AlertRow;
}

/** Retry schedule after the 1st, 2nd, … failed attempt; after the last one the delivery is failed. */
export const RETRY_BACKOFF_MS = [30_000, 120_000, 600_000, 1_800_000, 7_200_000];
export const MAX_ATTEMPTS = RETRY_BACKOFF_MS.length + 1;
/** How long a claimed delivery stays invisible to other senders while it is being sent. */
const CLAIM_MS = 60_000;

export const channelSecretPurpose = (channelId: string) => `channel:${channelId}`;

export async function sealChannelSecrets(
  env: { tx: Tx; kms: Kms; tenantId: string; requestId?: string },
  channelId: string,
  secrets: ChannelSecrets,
): Promise<Uint8Array> {
  return sealJson(env, channelSecretPurpose(channelId), secrets);
}

export async function openChannelSecrets(
  env: { tx: Tx; kms: Kms; tenantId: string; requestId?: string },
  channelId: string,
  sealed: Uint8Array | null,
): Promise<ChannelSecrets> {
  if (!sealed) return {};
  return (await openJson(env, channelSecretPurpose(channelId), new Uint8Array(sealed))) as ChannelSecrets;
}

/** Everything the engine and the recorder need, read in the tenant's transaction. */
export async function loadAlertingSnapshot(tx: Tx): Promise<AlertingSnapshot> {
  const [rules, groups, tagRows, windows] = await Promise.all([
    tx.select().from(alertRules),
    tx.select({ d: deviceGroupMembers.deviceId, g: deviceGroupMembers.groupId }).from(deviceGroupMembers),
    tx.select({ d: deviceTags.deviceId, t: deviceTags.tagId }).from(deviceTags),
    tx.select().from(maintenanceWindows).where(eq(maintenanceWindows.enabled, true)),
  ]);
  const groupsOf: Record<string, string[]> = {};
  const tagsOf: Record<string, string[]> = {};
  for (const r of groups) groupsOf[r.d] = [...(groupsOf[r.d] ?? []), r.g];
  for (const r of tagRows) tagsOf[r.d] = [...(tagsOf[r.d] ?? []), r.t];
  const membership: Membership = { groups: groupsOf, tags: tagsOf };
  return {
    rules: rules.map((r) => ({
      id: r.id,
      name: r.name,
      metric: r.metric,
      comparison: r.comparison,
      threshold: r.threshold,
      durationSeconds: r.durationSeconds,
      severity: r.severity,
      scope: r.scope,
      scopeTargetId: r.scopeTargetId,
      interfaceName: r.interfaceName,
      fireAfter: r.fireAfter,
      clearAfter: r.clearAfter,
      enabled: r.enabled,
    })),
    membership,
    windows,
  };
}

export function noticeOf(
  tenantId: string,
  a: AlertRow,
  deviceName: string,
  event: 'firing' | 'resolved',
  now: Date,
): AlertNotice {
  return {
    event,
    tenantId,
    alert: {
      id: a.id,
      ruleName: a.ruleName,
      metric: a.metric,
      severity: a.severity,
      deviceId: a.deviceId,
      deviceName,
      subject: a.subject,
      value: a.value,
      threshold: a.threshold,
      startedAt: new Date(a.startedAt).toISOString(),
      endedAt: a.endedAt ? new Date(a.endedAt).toISOString() : null,
    },
    at: now.toISOString(),
  };
}

async function queueDeliveries(
  tx: Tx,
  tenantId: string,
  a: AlertRow,
  deviceName: string,
  event: 'firing' | 'resolved',
  now: Date,
): Promise<void> {
  if (!a.ruleId) return;
  const channels = await tx
    .select({ id: notificationChannels.id })
    .from(alertRuleChannels)
    .innerJoin(notificationChannels, eq(notificationChannels.id, alertRuleChannels.channelId))
    .where(and(eq(alertRuleChannels.ruleId, a.ruleId), eq(notificationChannels.enabled, true)));
  if (channels.length === 0) return;
  const payload = noticeOf(tenantId, a, deviceName, event, now) as unknown as Record<string, unknown>;
  await tx
    .insert(notificationDeliveries)
    .values(
      channels.map((c) => ({ tenantId, channelId: c.id, alertId: a.id, event, payload, nextAttemptAt: now })),
    )
    .onConflictDoNothing();
}

/** Stores the transitions as alert rows and queues their notifications, in the caller's tenant
 * transaction. Alerts inside a maintenance window are recorded as suppressed and notify nobody; so does the
 * resolution of a suppressed alert. Transitions for devices that no longer exist are skipped. */
export async function recordTransitions(
  tx: Tx,
  tenantId: string,
  transitions: readonly AlertTransition[],
  snapshot: Pick<AlertingSnapshot, 'windows' | 'membership'>,
  now: Date,
): Promise<RecordedAlert[]> {
  if (transitions.length === 0) return [];
  const ids = [...new Set(transitions.map((t) => t.deviceId))];
  const names = new Map(
    (
      await tx.select({ id: devices.id, name: devices.name }).from(devices).where(inArray(devices.id, ids))
    ).map((d) => [d.id, d.name]),
  );
  const out: RecordedAlert[] = [];
  for (const t of transitions) {
    const deviceName = names.get(t.deviceId);
    if (deviceName === undefined) continue;
    const at = new Date(t.at);
    const quiet = inMaintenance(
      snapshot.windows,
      t.deviceId,
      snapshot.membership.groups[t.deviceId] ?? [],
      at,
    );
    if (t.kind === 'fired') {
      const [row] = await tx
        .insert(alerts)
        .values({
          tenantId,
          ruleId: t.ruleId,
          ruleName: t.ruleName,
          metric: t.metric,
          severity: t.severity,
          deviceId: t.deviceId,
          subject: t.subject,
          value: t.value,
          threshold: t.threshold,
          startedAt: at,
          suppressed: quiet,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) continue;
      out.push({ kind: 'fired', alert: row });
      if (!quiet) await queueDeliveries(tx, tenantId, row, deviceName, 'firing', now);
    } else {
      const [row] = await tx
        .update(alerts)
        .set({ state: 'resolved', endedAt: at, resolution: 'auto' })
        .where(
          and(
            eq(alerts.ruleId, t.ruleId),
            eq(alerts.deviceId, t.deviceId),
            eq(alerts.subject, t.subject),
            eq(alerts.state, 'firing'),
          ),
        )
        .returning();
      if (!row) continue;
      out.push({ kind: 'resolved', alert: row });
      if (!quiet && !row.suppressed) await queueDeliveries(tx, tenantId, row, deviceName, 'resolved', now);
    }
  }
  return out;
}

export interface DeliverOptions {
  db: Db;
  tenantId: string;
  kms: Kms;
  deps: NotifyDeps;
  now: Date;
  /** At most this many deliveries per call. */
  limit?: number;
}

export interface DeliverReport {
  sent: number;
  retrying: number;
  failed: number;
}

export function backoffAfter(attempts: number): number | null {
  return attempts >= MAX_ATTEMPTS ? null : (RETRY_BACKOFF_MS[attempts - 1] ?? null);
}

/** Sends the deliveries that are due. Claims them first (so two callers never send one twice), sends
 * outside any transaction, then records each outcome. Never throws for a channel's failure. */
export async function deliverDue(o: DeliverOptions): Promise<DeliverReport> {
  const report: DeliverReport = { sent: 0, retrying: 0, failed: 0 };
  const jobs = await withTenant(o.db, o.tenantId, async (tx) => {
    const due = await tx
      .select({ d: notificationDeliveries, c: notificationChannels })
      .from(notificationDeliveries)
      .innerJoin(notificationChannels, eq(notificationChannels.id, notificationDeliveries.channelId))
      .where(
        and(
          eq(notificationDeliveries.status, 'pending'),
          isNotNull(notificationDeliveries.nextAttemptAt),
          lte(notificationDeliveries.nextAttemptAt, o.now),
        ),
      )
      .orderBy(asc(notificationDeliveries.nextAttemptAt))
      .limit(o.limit ?? 50)
      .for('update', { of: notificationDeliveries, skipLocked: true });
    const out: {
      id: string;
      attempts: number;
      channel: typeof notificationChannels.$inferSelect;
      secrets: ChannelSecrets | null;
      payload: AlertNotice;
    }[] = [];
    for (const { d, c } of due) {
      const attempts = d.attempts + 1;
      await tx
        .update(notificationDeliveries)
        .set({ attempts, nextAttemptAt: new Date(o.now.getTime() + CLAIM_MS), updatedAt: o.now })
        .where(eq(notificationDeliveries.id, d.id));
      let secrets: ChannelSecrets | null = null;
      try {
        secrets = await openChannelSecrets({ tx, kms: o.kms, tenantId: o.tenantId }, c.id, c.secretsEnc);
      } catch {
        // The KMS may be back next time: a retryable failure, recorded below.
        secrets = null;
      }
      out.push({ id: d.id, attempts, channel: c, secrets, payload: d.payload as unknown as AlertNotice });
    }
    return out;
  });
  const results = await Promise.all(
    jobs.map(async (j): Promise<SendResult> => {
      if (!j.channel.enabled) return { ok: false, error: 'channel disabled', retryable: false };
      if (!j.secrets) return { ok: false, error: 'the channel secrets could not be opened', retryable: true };
      return sendNotice(
        o.deps,
        { kind: j.channel.kind, config: j.channel.config, secrets: j.secrets },
        j.payload,
        j.id,
      );
    }),
  );
  if (jobs.length === 0) return report;
  await withTenant(o.db, o.tenantId, async (tx) => {
    for (const [i, j] of jobs.entries()) {
      const r = results[i]!;
      if (r.ok) {
        report.sent++;
        await tx
          .update(notificationDeliveries)
          .set({ status: 'sent', sentAt: o.now, nextAttemptAt: null, lastError: null, updatedAt: o.now })
          .where(eq(notificationDeliveries.id, j.id));
        continue;
      }
      const wait = r.retryable ? backoffAfter(j.attempts) : null;
      if (wait === null) report.failed++;
      else report.retrying++;
      await tx
        .update(notificationDeliveries)
        .set({
          status: wait === null ? 'failed' : 'pending',
          nextAttemptAt: wait === null ? null : new Date(o.now.getTime() + wait),
          lastError: r.error.slice(0, 500),
          updatedAt: o.now,
        })
        .where(eq(notificationDeliveries.id, j.id));
    }
  });
  return report;
}

/** When the next pending delivery is due (for the Durable Object's alarm), or null when none is. */
export async function nextDeliveryAt(db: Db, tenantId: string): Promise<Date | null> {
  const [row] = await withTenant(db, tenantId, (tx) =>
    tx
      .select({ at: min(notificationDeliveries.nextAttemptAt) })
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.status, 'pending')),
  );
  return row?.at ? new Date(row.at) : null;
}

/** "Send test": one attempt right now, recorded as a delivery of event `test`. */
export async function sendTestNotice(o: {
  db: Db;
  tenantId: string;
  kms: Kms;
  deps: NotifyDeps;
  channelId: string;
  now: Date;
  requestId?: string;
}): Promise<{ found: false } | { found: true; deliveryId: string; result: SendResult }> {
  const job = await withTenant(o.db, o.tenantId, async (tx) => {
    const [c] = await tx.select().from(notificationChannels).where(eq(notificationChannels.id, o.channelId));
    if (!c) return null;
    const secrets = await openChannelSecrets(
      { tx, kms: o.kms, tenantId: o.tenantId, requestId: o.requestId },
      c.id,
      c.secretsEnc,
    );
    const notice: AlertNotice = {
      event: 'test',
      tenantId: o.tenantId,
      alert: {
        id: '00000000-0000-0000-0000-000000000000',
        ruleName: 'Test notification',
        metric: 'cpu_load',
        severity: 'info',
        deviceId: '00000000-0000-0000-0000-000000000000',
        deviceName: 'test-device',
        subject: '',
        value: null,
        threshold: null,
        startedAt: o.now.toISOString(),
        endedAt: null,
      },
      at: o.now.toISOString(),
    };
    const [d] = await tx
      .insert(notificationDeliveries)
      .values({
        tenantId: o.tenantId,
        channelId: c.id,
        event: 'test',
        attempts: 1,
        payload: notice as unknown as Record<string, unknown>,
        nextAttemptAt: null,
      })
      .returning({ id: notificationDeliveries.id });
    return { channel: c, secrets, notice, deliveryId: d!.id };
  });
  if (!job) return { found: false };
  const result = await sendNotice(
    o.deps,
    { kind: job.channel.kind, config: job.channel.config, secrets: job.secrets },
    job.notice,
    job.deliveryId,
  );
  await withTenant(o.db, o.tenantId, (tx) =>
    tx
      .update(notificationDeliveries)
      .set(
        result.ok
          ? { status: 'sent', sentAt: o.now, updatedAt: o.now }
          : { status: 'failed', lastError: result.error.slice(0, 500), updatedAt: o.now },
      )
      .where(eq(notificationDeliveries.id, job.deliveryId)),
  );
  return { found: true, deliveryId: job.deliveryId, result };
}
