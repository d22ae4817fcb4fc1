// Alerting API: rules, alerts, maintenance windows and notification channels. Channel secrets (SMTP
// password, webhook signing secret, Slack webhook URL) are write-only: accepted here, never in a response.
import { z } from 'zod';
import { PageQuery } from './common';

export const AlertMetric = z.enum([
  'cpu_load',
  'memory_used_pct',
  'disk_used_pct',
  'temperature',
  'voltage',
  'interface_rx_bps',
  'interface_tx_bps',
  'wireless_signal',
  'device_offline',
]);
export type AlertMetric = z.infer<typeof AlertMetric>;
export const AlertComparison = z.enum(['gt', 'gte', 'lt', 'lte', 'eq', 'ne']);
export type AlertComparison = z.infer<typeof AlertComparison>;
export const AlertSeverity = z.enum(['info', 'warning', 'critical']);
export type AlertSeverity = z.infer<typeof AlertSeverity>;
export const AlertRuleScope = z.enum(['all', 'group', 'tag', 'device']);
export type AlertRuleScope = z.infer<typeof AlertRuleScope>;

const Name = z.string().trim().min(1).max(200);
const InterfaceName = z.string().min(1).max(128);

const ruleFields = {
  name: Name,
  metric: AlertMetric,
  comparison: AlertComparison.nullable().optional(),
  threshold: z.number().finite().nullable().optional(),
  durationSeconds: z.number().int().min(0).max(604_800),
  severity: AlertSeverity,
  scope: AlertRuleScope,
  scopeTargetId: z.uuid().nullable().optional(),
  interfaceName: InterfaceName.nullable().optional(),
  fireAfter: z.number().int().min(1).max(100),
  clearAfter: z.number().int().min(1).max(100),
  enabled: z.boolean(),
  /** Notification channels this rule notifies (replaced as a whole). */
  channelIds: z.array(z.uuid()).max(50),
};

/** The cross-field rules of a complete rule (after defaults, or after a PATCH merged into the stored row);
 * returns the problems found, empty when the rule is consistent. */
export function alertRuleProblems(r: {
  metric: AlertMetric;
  comparison?: AlertComparison | null;
  threshold?: number | null;
  scope: AlertRuleScope;
  scopeTargetId?: string | null;
}): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const hasCmp = r.comparison !== null && r.comparison !== undefined;
  const hasThr = r.threshold !== null && r.threshold !== undefined;
  if (r.metric === 'device_offline') {
    if (hasCmp || hasThr)
      out.push({ path: 'threshold', message: 'device_offline takes no comparison or threshold' });
  } else {
    if (!hasCmp) out.push({ path: 'comparison', message: `${r.metric} needs a comparison` });
    if (!hasThr) out.push({ path: 'threshold', message: `${r.metric} needs a threshold` });
  }
  const hasTarget = r.scopeTargetId !== null && r.scopeTargetId !== undefined;
  if (r.scope === 'all' && hasTarget)
    out.push({ path: 'scopeTargetId', message: 'scope all takes no target' });
  if (r.scope !== 'all' && !hasTarget)
    out.push({ path: 'scopeTargetId', message: `scope ${r.scope} needs a target id` });
  return out;
}

export const CreateAlertRuleRequest = z
  .strictObject({
    ...ruleFields,
    durationSeconds: ruleFields.durationSeconds.default(0),
    severity: ruleFields.severity.default('warning'),
    scope: ruleFields.scope.default('all'),
    fireAfter: ruleFields.fireAfter.default(2),
    clearAfter: ruleFields.clearAfter.default(2),
    enabled: ruleFields.enabled.default(true),
    channelIds: ruleFields.channelIds.default([]),
  })
  .superRefine((r, ctx) => {
    for (const p of alertRuleProblems(r))
      ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  });
export type CreateAlertRuleRequest = z.infer<typeof CreateAlertRuleRequest>;

export const UpdateAlertRuleRequest = z
  .strictObject({
    name: ruleFields.name.optional(),
    metric: ruleFields.metric.optional(),
    comparison: ruleFields.comparison,
    threshold: ruleFields.threshold,
    durationSeconds: ruleFields.durationSeconds.optional(),
    severity: ruleFields.severity.optional(),
    scope: ruleFields.scope.optional(),
    scopeTargetId: ruleFields.scopeTargetId,
    interfaceName: ruleFields.interfaceName,
    fireAfter: ruleFields.fireAfter.optional(),
    clearAfter: ruleFields.clearAfter.optional(),
    enabled: ruleFields.enabled.optional(),
    channelIds: ruleFields.channelIds.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');
export type UpdateAlertRuleRequest = z.infer<typeof UpdateAlertRuleRequest>;

export const AlertRule = z.object({
  id: z.uuid(),
  name: z.string(),
  metric: AlertMetric,
  comparison: AlertComparison.nullable(),
  threshold: z.number().nullable(),
  durationSeconds: z.number(),
  severity: AlertSeverity,
  scope: AlertRuleScope,
  scopeTargetId: z.uuid().nullable(),
  interfaceName: z.string().nullable(),
  fireAfter: z.number(),
  clearAfter: z.number(),
  enabled: z.boolean(),
  channelIds: z.array(z.uuid()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AlertRule = z.infer<typeof AlertRule>;

// ---------------------------------------------------------------------------------------------------------
// Alerts

export const AlertState = z.enum(['firing', 'resolved']);
export const Alert = z.object({
  id: z.uuid(),
  ruleId: z.uuid().nullable(),
  ruleName: z.string(),
  metric: z.string(),
  severity: AlertSeverity,
  deviceId: z.uuid(),
  subject: z.string(),
  state: AlertState,
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  suppressed: z.boolean(),
  acknowledgedBy: z.uuid().nullable(),
  acknowledgedAt: z.string().nullable(),
  resolution: z.enum(['auto', 'manual']).nullable(),
  resolvedBy: z.uuid().nullable(),
});
export type Alert = z.infer<typeof Alert>;

/** What SSE event `alert` (topic `alerts`) carries: the hub raised or auto-resolved an alert, or a user
 * acknowledged or resolved one by hand. */
export const AlertStreamEvent = z.object({
  kind: z.enum(['fired', 'resolved', 'acknowledged']),
  alert: Alert,
});
export type AlertStreamEvent = z.infer<typeof AlertStreamEvent>;

export const AlertListQuery = z.strictObject({
  ...PageQuery,
  state: AlertState.optional(),
  severity: AlertSeverity.optional(),
  deviceId: z.uuid().optional(),
  ruleId: z.uuid().optional(),
});
export type AlertListQuery = z.infer<typeof AlertListQuery>;

/** Optional body of POST /api/alerts/:id/acknowledge and /resolve: a note kept in the audit trail. */
export const AlertActionRequest = z.strictObject({ note: z.string().trim().max(1000).optional() });
export type AlertActionRequest = z.infer<typeof AlertActionRequest>;

// ---------------------------------------------------------------------------------------------------------
// Maintenance windows

/** An IANA time zone the runtime knows (e.g. Europe/Vienna). */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Vienna');

export const MaintenanceScope = z.enum(['fleet', 'group', 'device']);
const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const Weekdays = z
  .array(z.number().int().min(0).max(6))
  .min(1)
  .max(7)
  .refine((d) => new Set(d).size === d.length, 'weekdays must not repeat');

const windowBase = {
  name: Name,
  scope: MaintenanceScope.default('fleet'),
  scopeTargetId: z.uuid().nullable().optional(),
  enabled: z.boolean().default(true),
};
const scopeCheck = (w: { scope: string; scopeTargetId?: string | null }, ctx: z.RefinementCtx) => {
  const has = w.scopeTargetId !== null && w.scopeTargetId !== undefined;
  if ((w.scope === 'fleet') === has) {
    ctx.addIssue({
      code: 'custom',
      path: ['scopeTargetId'],
      message: w.scope === 'fleet' ? 'scope fleet takes no target' : `scope ${w.scope} needs a target id`,
    });
  }
};

export const OnceWindowFields = z.strictObject({
  ...windowBase,
  kind: z.literal('once'),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
});
export const WeeklyWindowFields = z.strictObject({
  ...windowBase,
  kind: z.literal('weekly'),
  /** 0 = Sunday … 6 = Saturday, in `timeZone`. */
  weekdays: Weekdays,
  startTime: LocalTime,
  durationMinutes: z.number().int().min(1).max(10_080),
  timeZone: TimeZone,
});
export const CreateMaintenanceWindowRequest = z
  .discriminatedUnion('kind', [OnceWindowFields, WeeklyWindowFields])
  .superRefine((w, ctx) => {
    scopeCheck(w, ctx);
    if (w.kind === 'once' && Date.parse(w.endsAt) <= Date.parse(w.startsAt)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
    }
  });
export type CreateMaintenanceWindowRequest = z.infer<typeof CreateMaintenanceWindowRequest>;

export const UpdateMaintenanceWindowRequest = z
  .strictObject({
    name: Name.optional(),
    scope: MaintenanceScope.optional(),
    scopeTargetId: z.uuid().nullable().optional(),
    enabled: z.boolean().optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    weekdays: Weekdays.optional(),
    startTime: LocalTime.optional(),
    durationMinutes: z.number().int().min(1).max(10_080).optional(),
    timeZone: TimeZone.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');
export type UpdateMaintenanceWindowRequest = z.infer<typeof UpdateMaintenanceWindowRequest>;

export const MaintenanceWindow = z.object({
  id: z.uuid(),
  name: z.string(),
  scope: MaintenanceScope,
  scopeTargetId: z.uuid().nullable(),
  kind: z.enum(['once', 'weekly']),
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
  weekdays: z.array(z.number()).nullable(),
  startTime: z.string().nullable(),
  durationMinutes: z.number().nullable(),
  timeZone: z.string().nullable(),
  enabled: z.boolean(),
  /** Whether the window is in force right now. */
  activeNow: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

// ---------------------------------------------------------------------------------------------------------
// Notification channels

const Email = z.email().max(254);
const Host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:-]+$/, 'must be a hostname or IP address');
const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const SmtpSecurity = z.enum(['starttls', 'tls', 'none']);
export type SmtpSecurity = z.infer<typeof SmtpSecurity>;

/** Settings shown back to the caller, per kind. */
export const EmailChannelConfig = z.strictObject({
  host: Host,
  port: z.number().int().min(1).max(65535).default(587),
  /** starttls (submission, 587), tls (implicit, 465) or none (plain; refused for AUTH). */
  security: SmtpSecurity.default('starttls'),
  username: z.string().min(1).max(254).nullable().default(null),
  from: Email,
  to: z.array(Email).min(1).max(20),
});
export type EmailChannelConfig = z.infer<typeof EmailChannelConfig>;
export const WebhookChannelConfig = z.strictObject({ url: HttpUrl });
export type WebhookChannelConfig = z.infer<typeof WebhookChannelConfig>;
export const SlackChannelConfig = z.strictObject({});

/** Secrets per kind: sealed with the tenant's data key, never returned. */
export const EmailChannelSecrets = z.strictObject({ password: z.string().min(1).max(500).optional() });
export const WebhookChannelSecrets = z.strictObject({ signingSecret: z.string().min(16).max(500) });
export const SlackChannelSecrets = z.strictObject({ webhookUrl: HttpUrl });
export type ChannelSecrets = {
  password?: string;
  signingSecret?: string;
  webhookUrl?: string;
};

const channelBase = { name: Name, enabled: z.boolean().default(true) };

export const CreateNotificationChannelRequest = z.discriminatedUnion('kind', [
  z.strictObject({
    ...channelBase,
    kind: z.literal('email'),
    config: EmailChannelConfig,
    secrets: EmailChannelSecrets.default({}),
  }),
  z.strictObject({
    ...channelBase,
    kind: z.literal('webhook'),
    config: WebhookChannelConfig,
    secrets: WebhookChannelSecrets,
  }),
  z.strictObject({
    ...channelBase,
    kind: z.literal('slack'),
    config: SlackChannelConfig.default({}),
    secrets: SlackChannelSecrets,
  }),
]);
export type CreateNotificationChannelRequest = z.infer<typeof CreateNotificationChannelRequest>;

/** `config` replaces the shown settings as a whole (validated against the channel's kind); `secrets`, when
 * given, replaces the secrets as a whole; omitted, the stored secrets stay. */
export const UpdateNotificationChannelRequest = z
  .strictObject({
    name: Name.optional(),
    enabled: z.boolean().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    secrets: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');
export type UpdateNotificationChannelRequest = z.infer<typeof UpdateNotificationChannelRequest>;

export const NotificationChannel = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(['email', 'webhook', 'slack']),
  enabled: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  /** Names of the secrets that are set (the values never leave the server). */
  secretsSet: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NotificationChannel = z.infer<typeof NotificationChannel>;

export const NotificationDelivery = z.object({
  id: z.uuid(),
  channelId: z.uuid(),
  alertId: z.uuid().nullable(),
  event: z.enum(['firing', 'resolved', 'test']),
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  createdAt: z.string(),
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

export const SendTestResult = z.object({
  ok: z.boolean(),
  deliveryId: z.uuid(),
  error: z.string().nullable(),
});

/** What a channel sends: one alert change (or a test). Also the webhook's JSON body. */
export const AlertNotice = z.object({
  event: z.enum(['firing', 'resolved', 'test']),
  tenantId: z.uuid(),
  alert: z.object({
    id: z.string(),
    ruleName: z.string(),
    metric: z.string(),
    severity: AlertSeverity,
    deviceId: z.string(),
    deviceName: z.string(),
    subject: z.string(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  }),
  at: z.string(),
});
export type AlertNotice = z.infer<typeof AlertNotice>;
