// Configuration of the local stack (`npm start`): one zod-validated object from the process env, with the
// defaults in one place. Secrets not given are generated once and kept under the data directory.
import { z } from 'zod';

const optionalUrl = (protocols: RegExp, hint: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      if (!protocols.test(v)) return false;
      try {
        new URL(v);
        return true;
      } catch {
        return false;
      }
    }, hint)
    .optional();

export const StackEnv = z
  .object({
    TOD_DATA_DIR: z.string().default('.tod'),
    TOD_EMBEDDED: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('true')
      .transform((v) => v === 'true'),
    PORT: z.coerce
      .number({ error: 'must be a port number' })
      .int()
      .min(0, 'must be a port number (0 picks a free one)')
      .max(65535, 'must be a port number')
      .default(8787),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: optionalUrl(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (the application role)'),
    DATABASE_OWNER_URL: optionalUrl(
      /^postgres(ql)?:\/\//,
      'must be a postgres:// URL (the schema owner role)',
    ),
    NATS_URL: optionalUrl(/^(nats|tls):\/\//, 'must be a nats:// URL'),
    NATS_WS_URL: optionalUrl(/^wss?:\/\//, 'must be a ws:// or wss:// URL'),
    /** NATS JWT auth of an external NATS (the embedded one always runs with auth, keys in the data dir). */
    NATS_ACCOUNT_PUBLIC_KEY: z.string().optional(),
    NATS_ACCOUNT_SIGNING_SEED: z.string().optional(),
    ENVIRONMENT: z.enum(['development', 'test', 'production']).default('development'),
    JWT_SECRET_KEY: z.string().optional(),
    CREDENTIAL_ENCRYPTION_KEY: z.string().optional(),
    FIRST_ADMIN_EMAIL: z.email('must be an email address').default('admin@tod.local'),
    FIRST_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    /** The simulated demo fleet (50 devices, a demo tenant and an enrolled collector); 0 turns it off. */
    TOD_DEMO: z
      .enum(['1', '0', 'true', 'false'], { error: 'must be 1 or 0' })
      .default('1')
      .transform((v) => v === '1' || v === 'true'),
  })
  .superRefine((env, ctx) => {
    if (!env.TOD_EMBEDDED && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: 'is required when TOD_EMBEDDED=false',
      });
    }
    if (!env.TOD_EMBEDDED && !env.NATS_URL) {
      ctx.addIssue({ code: 'custom', path: ['NATS_URL'], message: 'is required when TOD_EMBEDDED=false' });
    }
    if (env.NATS_URL && !env.NATS_WS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['NATS_WS_URL'],
        message: 'is required with NATS_URL (the edge reaches NATS over its websocket listener)',
      });
    }
  });
export type StackConfig = z.infer<typeof StackEnv>;

export class StackConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable} ${detail}`);
  }
}

export function loadStackConfig(env: Record<string, string | undefined>): StackConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = StackEnv.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new StackConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return parsed.data;
}
