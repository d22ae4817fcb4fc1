// Validates the Worker env once per isolate (per env object) and exposes it as c.var.config.
import { createMiddleware } from 'hono/factory';
import { type EdgeConfig, loadConfig } from '../config';
import type { AppEnv } from '../env';

const cache = new WeakMap<object, EdgeConfig>();

export function configFor(env: object): EdgeConfig {
  let cfg = cache.get(env);
  if (!cfg) {
    cfg = loadConfig(env as Record<string, unknown>);
    cache.set(env, cfg);
  }
  return cfg;
}

export const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  c.set('config', configFor(c.env));
  await next();
});
