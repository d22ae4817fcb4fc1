import { z } from 'zod';

export const HealthResponse = z.object({
  status: z.literal('ok'),
  service: z.literal('tod-edge'),
  version: z.string(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const ReadinessCheck = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nonnegative(),
  error: z.string().optional(),
});

export const ReadinessResponse = z.object({
  status: z.enum(['ready', 'not_ready']),
  version: z.string(),
  checks: z.object({ postgres: ReadinessCheck, nats: ReadinessCheck }),
});
export type ReadinessResponse = z.infer<typeof ReadinessResponse>;
