// Opens the request's Postgres connection on first use and closes it after the response.
import { createMiddleware } from 'hono/factory';
import { type Db, type DbHandle, openDb } from '../db';
import type { AppEnv } from '../env';
import { configFor } from './config';

export const database = createMiddleware<AppEnv>(async (c, next) => {
  let handle: DbHandle | null = null;
  c.set('openDb', (): Db => {
    if (!handle) handle = openDb(configFor(c.env).DATABASE_URL);
    return handle.db;
  });
  try {
    await next();
  } finally {
    const h = handle as DbHandle | null;
    if (h) c.executionCtx.waitUntil(h.close());
  }
});
