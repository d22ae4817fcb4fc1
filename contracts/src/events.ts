// NATS subjects shared by the collector (publisher) and the edge (consumer).
import { z } from 'zod';

export const STREAM_NAME = 'TOD';
export const DEVICES_BUCKET = 'tod-devices';

export const EventKind = z.enum([
  'status',
  'resource',
  'interfaces',
  'wireless',
  'health',
  'config-changed',
  'log',
  'progress',
]);
export type EventKind = z.infer<typeof EventKind>;

const subjectToken = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a NATS subject token: letters, digits, - and _');

/** `tod.evt.<tenant>.<device>.<kind>` */
export function eventSubject(tenantId: string, deviceId: string, kind: EventKind): string {
  subjectToken.parse(tenantId);
  subjectToken.parse(deviceId);
  return `tod.evt.${tenantId}.${deviceId}.${kind}`;
}

export const EventSubject = z
  .string()
  .regex(/^tod\.evt\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([a-z-]+)$/)
  .transform((s, ctx) => {
    const [, , tenantId, deviceId, kind] = s.split('.');
    const parsed = EventKind.safeParse(kind);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `unknown event kind ${kind}` });
      return z.NEVER;
    }
    return { tenantId: tenantId!, deviceId: deviceId!, kind: parsed.data };
  });

/** `tod.cmd.<tenant>.<collector>` request/reply to one collector. */
export function commandSubject(tenantId: string, collectorId: string): string {
  subjectToken.parse(tenantId);
  subjectToken.parse(collectorId);
  return `tod.cmd.${tenantId}.${collectorId}`;
}

/** KV key in `tod-devices`: `<tenant>.<collector>.<device>`. */
export function deviceKey(tenantId: string, collectorId: string, deviceId: string): string {
  for (const t of [tenantId, collectorId, deviceId]) subjectToken.parse(t);
  return `${tenantId}.${collectorId}.${deviceId}`;
}
