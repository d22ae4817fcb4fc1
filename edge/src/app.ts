// Builds the Hono app: middleware, one route module per resource, and the JSON error shape everywhere.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './env';
import { ApiError, handleError, handleNotFound } from './errors';
import { requestId } from './middleware/request-id';
import { health } from './routes/health';

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId);
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: 'max-age=63072000; includeSubDomains',
      xFrameOptions: 'DENY',
    }),
  );
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', 'request body is larger than 1 MiB');
      },
    }),
  );
  app.route('/health', health);
  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
