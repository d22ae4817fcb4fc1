// The API's one error type and its mapping to `{ "error": { "code", "message" } }`.
import type { ApiErrorBody } from '@tod/contracts';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError } from './config';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export function errorBody(
  c: Context,
  code: string,
  message: string,
  details?: ApiError['details'],
): ApiErrorBody {
  const requestId = c.get('requestId') as string | undefined;
  return { error: { code, message, ...(requestId ? { requestId } : {}), ...(details ? { details } : {}) } };
}

export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(c, err.code, err.message, err.details), err.status);
  if (err instanceof ConfigError) {
    return c.json(errorBody(c, 'misconfigured', `server misconfigured: ${err.message}`), 503);
  }
  // Hono's own HTTP errors (e.g. malformed JSON from a body parser) carry a status.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return c.json(errorBody(c, 'bad_request', err.message || 'bad request'), status as ContentfulStatusCode);
  }
  console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), error: err.message }));
  return c.json(errorBody(c, 'internal', 'internal error'), 500);
}

export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody(c, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    404,
  );
}
