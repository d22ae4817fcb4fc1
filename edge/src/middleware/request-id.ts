// Every request gets an id (the caller's X-Request-Id when it is sane), echoed in the response and in errors.
import { createMiddleware } from 'hono/factory';

const SANE_ID = /^[A-Za-z0-9._-]{8,64}$/;

export const requestId = createMiddleware<{ Variables: { requestId: string } }>(async (c, next) => {
  const given = c.req.header('x-request-id');
  const id = given && SANE_ID.test(given) ? given : crypto.randomUUID();
  c.set('requestId', id);
  await next();
  c.header('X-Request-Id', id);
});
