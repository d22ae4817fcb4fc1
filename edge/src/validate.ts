// zod at the HTTP boundary: bodies, queries and path params are parsed with the contracts/ schemas and
// every failure becomes a 400 `invalid_request` with the paths that were wrong.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors';

function invalid(error: z.ZodError): ApiError {
  const details = error.issues.slice(0, 20).map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  return new ApiError(400, 'invalid_request', 'the request is not valid', details);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
  }
  return parseWith(schema, raw);
}

export function readQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  return parseWith(schema, c.req.query());
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID cannot name anything: 404, like an id of another tenant. */
export function pathId(c: Context, name = 'id'): string {
  const id = c.req.param(name);
  if (!id || !UUID.test(id)) throw new ApiError(404, 'not_found', 'not found');
  return id.toLowerCase();
}
