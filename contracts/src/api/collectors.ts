import { z } from 'zod';

export const Collector = z.object({
  id: z.uuid(),
  name: z.string(),
  site: z.string(),
  status: z.enum(['pending', 'online', 'offline', 'revoked']),
  version: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  enrolledAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
export const CreateCollectorRequest = z.strictObject({
  name: z.string().trim().min(1).max(200),
  site: z.string().max(200).default(''),
});
/** The one-time enrol token, shown once (stored as SHA-256). */
export const CollectorEnrollToken = z.object({
  collectorId: z.uuid(),
  token: z.string(),
  expiresAt: z.string(),
});
