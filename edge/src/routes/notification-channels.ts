// /api/notification-channels: email (SMTP), webhook and Slack targets for alert notifications. Secrets are
// write-only: sealed with the tenant's data key on the way in, reported only by name (`secretsSet`). A
// channel can be tested on demand, and its recent deliveries listed.
import {
  type ChannelSecrets,
  CreateNotificationChannelRequest,
  EmailChannelConfig,
  EmailChannelSecrets,
  NameListQuery,
  type NotificationChannel,
  type NotificationDelivery,
  SlackChannelConfig,
  SlackChannelSecrets,
  UpdateNotificationChannelRequest,
  WebhookChannelConfig,
  WebhookChannelSecrets,
} from '@tod/contracts';
import { notificationChannels, notificationDeliveries } from '@tod/drizzle/schema';
import { and, asc, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { openChannelSecrets, sealChannelSecrets, sendTestNotice } from '../alerting/dispatch';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { kmsFor } from '../services/kms-config';
import { parseWith, pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { nameFilters, pageOf } from './paging';

type ChannelRow = typeof notificationChannels.$inferSelect;
type Kind = ChannelRow['kind'];

const KIND_SCHEMAS: Record<Kind, { config: z.ZodType; secrets: z.ZodType }> = {
  email: { config: EmailChannelConfig, secrets: EmailChannelSecrets },
  webhook: { config: WebhookChannelConfig, secrets: WebhookChannelSecrets },
  slack: { config: SlackChannelConfig, secrets: SlackChannelSecrets },
};

/** Which secrets a channel holds, by name only. Stored alongside the config as `_secrets` (names, never
 * values) so listing channels needs no decryption. */
const SECRET_NAMES = '_secrets';

export function channelDto(ch: ChannelRow): NotificationChannel {
  const { [SECRET_NAMES]: names, ...config } = ch.config as Record<string, unknown>;
  return {
    id: ch.id,
    name: ch.name,
    kind: ch.kind,
    enabled: ch.enabled,
    config,
    secretsSet: Array.isArray(names) ? (names as string[]) : [],
    createdAt: iso(ch.createdAt)!,
    updatedAt: iso(ch.updatedAt)!,
  };
}

const notFound = () => new ApiError(404, 'not_found', 'notification channel not found');

const storedConfig = (config: Record<string, unknown>, secrets: ChannelSecrets) => ({
  ...config,
  [SECRET_NAMES]: Object.keys(secrets)
    .filter((k) => (secrets as Record<string, unknown>)[k] !== undefined)
    .sort(),
});

export const notificationChannelsRoute = new Hono<AppEnv>();

notificationChannelsRoute.get('/', requireRole('operator'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(notificationChannels)
      .where(and(...nameFilters(q, notificationChannels.name, notificationChannels.id)))
      .orderBy(asc(notificationChannels.name), asc(notificationChannels.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (r) => [r.name, r.id], channelDto));
});

notificationChannelsRoute.post('/', requireRole('admin'), async (c) => {
  const body = await readBody(c, CreateNotificationChannelRequest);
  const row = await inTenant(c, async (s) => {
    const id = crypto.randomUUID();
    const secrets = body.secrets as ChannelSecrets;
    const secretsEnc = await sealChannelSecrets(s.envelope, id, secrets);
    const [ch] = await s.tx
      .insert(notificationChannels)
      .values({
        id,
        tenantId: s.tenantId,
        name: body.name,
        kind: body.kind,
        enabled: body.enabled,
        config: storedConfig(body.config, secrets),
        secretsEnc,
      })
      .returning();
    // Never the secrets in the audit trail: names and kind only.
    await s.audit({
      action: 'notification_channel.create',
      targetType: 'notification_channel',
      targetId: id,
      details: { name: body.name, kind: body.kind, config: body.config },
    });
    return ch!;
  });
  return c.json(channelDto(row), 201);
});

notificationChannelsRoute.get('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(
    c,
    async ({ tx }) =>
      (await tx.select().from(notificationChannels).where(eq(notificationChannels.id, id)))[0],
  );
  if (!row) throw notFound();
  return c.json(channelDto(row));
});

notificationChannelsRoute.patch('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateNotificationChannelRequest);
  const row = await inTenant(c, async (s) => {
    const [cur] = await s.tx
      .select()
      .from(notificationChannels)
      .where(eq(notificationChannels.id, id))
      .for('update');
    if (!cur) return null;
    const schemas = KIND_SCHEMAS[cur.kind];
    const { [SECRET_NAMES]: _names, ...curConfig } = cur.config as Record<string, unknown>;
    const config = (body.config !== undefined ? parseWith(schemas.config, body.config) : curConfig) as Record<
      string,
      unknown
    >;
    let secrets: ChannelSecrets;
    let secretsEnc = cur.secretsEnc;
    if (body.secrets !== undefined) {
      secrets = parseWith(schemas.secrets, body.secrets) as ChannelSecrets;
      secretsEnc = await sealChannelSecrets(s.envelope, id, secrets);
    } else {
      secrets = await openChannelSecrets(s.envelope, id, cur.secretsEnc);
    }
    const [ch] = await s.tx
      .update(notificationChannels)
      .set({
        name: body.name ?? cur.name,
        enabled: body.enabled ?? cur.enabled,
        config: storedConfig(config, secrets),
        secretsEnc,
        updatedAt: new Date(),
      })
      .where(eq(notificationChannels.id, id))
      .returning();
    await s.audit({
      action: 'notification_channel.update',
      targetType: 'notification_channel',
      targetId: id,
      details: {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        ...(body.config !== undefined ? { config } : {}),
        secretsChanged: body.secrets !== undefined,
      },
    });
    return ch;
  });
  if (!row) throw notFound();
  return c.json(channelDto(row));
});

notificationChannelsRoute.delete('/:id', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [ch] = await s.tx.delete(notificationChannels).where(eq(notificationChannels.id, id)).returning();
    if (ch) {
      await s.audit({
        action: 'notification_channel.delete',
        targetType: 'notification_channel',
        targetId: id,
        details: { name: ch.name, kind: ch.kind },
      });
    }
    return ch;
  });
  if (!row) throw notFound();
  return c.body(null, 204);
});

notificationChannelsRoute.post('/:id/test', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const found = await inTenant(c, async (s) => {
    const [ch] = await s.tx
      .select({ id: notificationChannels.id })
      .from(notificationChannels)
      .where(eq(notificationChannels.id, id));
    if (ch) {
      await s.audit({
        action: 'notification_channel.test',
        targetType: 'notification_channel',
        targetId: id,
      });
    }
    return Boolean(ch);
  });
  if (!found) throw notFound();
  // Loaded here, not at the top: `cloudflare:sockets` exists only in workerd.
  const { workerNotifyDeps } = await import('../services/notify/workers');
  const out = await sendTestNotice({
    db: c.var.openDb(),
    tenantId: c.var.tenantId,
    kms: kmsFor(c.env),
    deps: workerNotifyDeps(),
    channelId: id,
    now: new Date(),
    requestId: c.var.requestId,
  });
  if (!out.found) throw notFound();
  return c.json({
    ok: out.result.ok,
    deliveryId: out.deliveryId,
    error: out.result.ok ? null : out.result.error,
  });
});

const DeliveryListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

function deliveryDto(d: typeof notificationDeliveries.$inferSelect): NotificationDelivery {
  return {
    id: d.id,
    channelId: d.channelId,
    alertId: d.alertId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    nextAttemptAt: iso(d.nextAttemptAt),
    sentAt: iso(d.sentAt),
    createdAt: iso(d.createdAt)!,
  };
}

notificationChannelsRoute.get('/:id/deliveries', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const q = readQuery(c, DeliveryListQuery);
  const rows = await inTenant(c, async ({ tx }) => {
    const [ch] = await tx
      .select({ id: notificationChannels.id })
      .from(notificationChannels)
      .where(eq(notificationChannels.id, id));
    if (!ch) return null;
    return tx
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.channelId, id))
      .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
      .limit(q.limit);
  });
  if (!rows) throw notFound();
  return c.json({ items: rows.map(deliveryDto) });
});
