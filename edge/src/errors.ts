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
  const pg = postgresError(err);
  if (pg) {
    const mapped = PG_ERRORS[pg];
    if (mapped) return c.json(errorBody(c, mapped.code, mapped.message), mapped.status);
  }
  // Hono's own HTTP errors (e.g. malformed JSON from a body parser) carry a status.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return c.json(errorBody(c, 'bad_request', err.message || 'bad request'), status as ContentfulStatusCode);
  }
  console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), error: err.message }));
  return c.json(errorBody(c, 'internal', 'internal error'), 500);
}

// Constraint failures caused by the request (a duplicate name, a reference to a row the tenant cannot see,
// a value the database refuses) are the caller's mistake, not a 500. Never echo the database's message: it
// can name other tenants' values.
const PG_ERRORS: Record<string, { status: ContentfulStatusCode; code: string; message: string }> = {
  '23505': { status: 409, code: 'conflict', message: 'a resource with these values already exists' },
  '23503': { status: 404, code: 'not_found', message: 'a referenced resource does not exist' },
  '23514': { status: 400, code: 'invalid_request', message: 'a value is out of range' },
  '22001': { status: 400, code: 'invalid_request', message: 'a value is too long' },
  '22P02': { status: 400, code: 'invalid_request', message: 'a value has the wrong format' },
  '22007': { status: 400, code: 'invalid_request', message: 'a value has the wrong format' },
  '22008': { status: 400, code: 'invalid_request', message: 'a value is out of range' },
  '22003': { status: 400, code: 'invalid_request', message: 'a value is out of range' },
  '22021': { status: 400, code: 'invalid_request', message: 'a value has an invalid encoding' },
  '22P05': { status: 400, code: 'invalid_request', message: 'a value has an invalid encoding' },
};

function postgresError(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody(c, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    404,
  );
}
