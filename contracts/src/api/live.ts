// The live pipeline's HTTP surface: the SSE stream (/api/sse), its short-lived token, the metrics range query
// (/api/devices/:id/metrics) and the TenantHub's counters (/api/hub/stats).
import { z } from 'zod';
import type { EventKind } from '../events';

/** What an SSE client may subscribe to (`?topics=status,metrics`); all of them by default. */
export const LiveTopic = z.enum(['status', 'metrics', 'alerts', 'progress', 'config', 'logs']);
export type LiveTopic = z.infer<typeof LiveTopic>;

/** The topic of each device event kind. */
export const TOPIC_OF_KIND: Record<EventKind, LiveTopic> = {
  status: 'status',
  resource: 'metrics',
  interfaces: 'metrics',
  wireless: 'metrics',
  health: 'metrics',
  progress: 'progress',
  'config-changed': 'config',
  'config-snapshot': 'config',
  'config-operation': 'config',
  log: 'logs',
};

export const SseQuery = z.strictObject({
  topics: z
    .string()
    .max(200)
    .transform((s, ctx) => {
      const topics = s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const parsed = z.array(LiveTopic).min(1).safeParse(topics);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `topics are ${LiveTopic.options.join(', ')}` });
        return z.NEVER;
      }
      return parsed.data;
    })
    .optional(),
  /** A token from POST /api/sse/token, for clients that cannot send the session cookie. */
  token: z.string().max(2000).optional(),
  /** Fallback for Last-Event-ID where the client cannot set the header. */
  lastEventId: z.string().max(64).optional(),
});

export const SSE_TOKEN_TTL_SECONDS = 60;

export const SseTokenResponse = z.object({ token: z.string(), expiresAt: z.iso.datetime() });
export type SseTokenResponse = z.infer<typeof SseTokenResponse>;

/** An SSE event id: `<stream sequence>` for device events, `<sequence>-<n>` for events the hub derives after
 * that sequence (alerts). Ordered by (sequence, n). */
export const SseEventId = z
  .string()
  .regex(/^\d{1,16}(-\d{1,9})?$/)
  .transform((s) => {
    const [seq, sub] = s.split('-');
    return { seq: Number(seq), sub: Number(sub ?? 0) };
  });

export const HubStats = z.object({
  tenantId: z.uuid(),
  connected: z.boolean(),
  received: z.number().int(),
  stored: z.number().int(),
  duplicates: z.number().int(),
  dropped: z.object({
    invalid: z.number().int(),
    foreignDevice: z.number().int(),
    wrongCollector: z.number().int(),
    outOfRange: z.number().int(),
  }),
  batches: z.number().int(),
  lastSeq: z.number().int(),
  sseClients: z.number().int(),
  lastError: z.string().nullable(),
});
export type HubStats = z.infer<typeof HubStats>;

// ---- metrics ----

export const MetricKind = z.enum(['resource', 'interfaces', 'health', 'wireless']);
export type MetricKind = z.infer<typeof MetricKind>;

export const MetricResolution = z.enum(['raw', '5m', '1h']);
export type MetricResolution = z.infer<typeof MetricResolution>;

/** Spans up to this long are served from raw samples, up to MAX_5M_SPAN from 5-minute rollups, longer
 * from hourly rollups. */
export const MAX_RAW_SPAN_MS = 6 * 3_600_000;
export const MAX_5M_SPAN_MS = 7 * 24 * 3_600_000;
export const MAX_METRICS_SPAN_MS = 400 * 24 * 3_600_000;

export function resolutionFor(spanMs: number): MetricResolution {
  if (spanMs <= MAX_RAW_SPAN_MS) return 'raw';
  if (spanMs <= MAX_5M_SPAN_MS) return '5m';
  return '1h';
}

export const MetricsQuery = z
  .strictObject({
    kind: MetricKind,
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }).optional(),
    interface: z.string().min(1).max(128).optional(),
    client: z.string().min(1).max(32).optional(),
    /** Override the automatic choice (e.g. raw samples of a short span inside a long chart). */
    resolution: MetricResolution.optional(),
  })
  .refine((q) => q.interface === undefined || q.kind === 'interfaces', {
    message: 'interface applies to kind=interfaces',
    path: ['interface'],
  })
  .refine((q) => q.client === undefined || q.kind === 'wireless', {
    message: 'client applies to kind=wireless',
    path: ['client'],
  })
  .refine((q) => Date.parse(q.to ?? new Date().toISOString()) > Date.parse(q.from), {
    message: 'to must be after from',
    path: ['to'],
  })
  .refine((q) => Date.parse(q.to ?? new Date().toISOString()) - Date.parse(q.from) <= MAX_METRICS_SPAN_MS, {
    message: 'the range is longer than 400 days',
    path: ['from'],
  });
export type MetricsQuery = z.infer<typeof MetricsQuery>;

const n = z.number().nullable();

/** One point per time (and per interface or client); raw samples repeat the value in avg/min/max. */
export const ResourcePoint = z.object({
  t: z.iso.datetime(),
  samples: z.number().int(),
  cpuAvg: z.number(),
  cpuMax: z.number(),
  freeMemory: z.number(),
  totalMemory: z.number(),
  freeHdd: z.number(),
  totalHdd: z.number(),
  uptimeSeconds: z.number(),
});
export const InterfacePoint = z.object({
  t: z.iso.datetime(),
  interface: z.string(),
  samples: z.number().int(),
  rxBpsAvg: n,
  rxBpsMax: n,
  txBpsAvg: n,
  txBpsMax: n,
});
export const HealthPoint = z.object({
  t: z.iso.datetime(),
  samples: z.number().int(),
  voltage: n,
  temperatureAvg: n,
  temperatureMax: n,
  cpuTemperatureAvg: n,
  cpuTemperatureMax: n,
});
export const WirelessPoint = z.object({
  t: z.iso.datetime(),
  client: z.string(),
  interface: z.string(),
  samples: z.number().int(),
  signalAvg: n,
  signalMin: n,
  signalMax: n,
  txRateAvg: n,
  rxRateAvg: n,
});

export const MetricsResponse = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('resource'),
    resolution: MetricResolution,
    from: z.string(),
    to: z.string(),
    points: z.array(ResourcePoint),
  }),
  z.object({
    kind: z.literal('interfaces'),
    resolution: MetricResolution,
    from: z.string(),
    to: z.string(),
    points: z.array(InterfacePoint),
  }),
  z.object({
    kind: z.literal('health'),
    resolution: MetricResolution,
    from: z.string(),
    to: z.string(),
    points: z.array(HealthPoint),
  }),
  z.object({
    kind: z.literal('wireless'),
    resolution: MetricResolution,
    from: z.string(),
    to: z.string(),
    points: z.array(WirelessPoint),
  }),
]);
export type MetricsResponse = z.infer<typeof MetricsResponse>;

/** Upper bound of points one response carries (raw ranges of very chatty devices are cut at the end). */
export const MAX_METRIC_POINTS = 20_000;
