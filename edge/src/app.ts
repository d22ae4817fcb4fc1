// Builds the Hono app: middleware, one route module per resource, and the JSON error shape everywhere.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './env';
import { ApiError, handleError, handleNotFound } from './errors';
import { configFor } from './middleware/config';
import { database } from './middleware/db';
import { requestId } from './middleware/request-id';
import { DOCS_HTML, openApiDocument } from './openapi';
import { alertRulesRoute } from './routes/alert-rules';
import { alertsRoute } from './routes/alerts';
import { auditLogsRoute, kmsEventsRoute } from './routes/audit-logs';
import { auth } from './routes/auth';
import { collectorsRoute } from './routes/collectors';
import { configBackupsRoute, configHistoryRoute } from './routes/config-backups';
import { configBatchesRoute } from './routes/config-batches';
import { configOperationsRoute, configRestoreRoute, deviceConfigRoute } from './routes/config-ops';
import { configTemplatesRoute } from './routes/config-templates';
import { deviceGroupsRoute, tagsRoute } from './routes/device-sets';
import { devicesRoute } from './routes/devices';
import { health } from './routes/health';
import { hubRoute, sseRoute } from './routes/live';
import { maintenanceWindowsRoute } from './routes/maintenance-windows';
import { metricsRoute } from './routes/metrics';
import { notificationChannelsRoute } from './routes/notification-channels';
import { settingsRoute } from './routes/settings';
import { tenantsRoute } from './routes/tenants';
import { apiKeysRoute, invitationsRoute, usersRoute } from './routes/users';

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId);
  const strictHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
    xFrameOptions: 'DENY',
    referrerPolicy: 'strict-origin-when-cross-origin',
  });
  // /docs (development only) loads Swagger UI from a CDN: the same headers with a CSP that allows it.
  const docsHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'unsafe-inline'", 'https://unpkg.com'],
      styleSrc: ['https://unpkg.com'],
      imgSrc: ['data:', 'https://unpkg.com'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
    },
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
    xFrameOptions: 'DENY',
    referrerPolicy: 'strict-origin-when-cross-origin',
  });
  app.use((c, next) => (c.req.path === '/docs' ? docsHeaders(c, next) : strictHeaders(c, next)));
  // CORS from config (CORS_ORIGINS, comma-separated); none allowed by default (web calls through a binding).
  app.use(
    '/api/*',
    cors({
      origin: (origin, c) => {
        const allowed = (c.env.CORS_ORIGINS ?? '')
          .split(',')
          .map((s: string) => s.trim())
          .filter(Boolean);
        return allowed.includes(origin) ? origin : null;
      },
      credentials: true,
      allowHeaders: ['Content-Type', 'X-API-Key', 'X-Tenant-Id', 'X-Request-Id', 'Authorization'],
      allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
      maxAge: 600,
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
  app.use('/api/*', async (c, next) => {
    c.set('config', configFor(c.env));
    await next();
  });
  app.use('/api/*', database);
  app.route('/health', health);
  app.get('/api/openapi.json', (c) => c.json(openApiDocument(c.var.config.APP_VERSION)));
  app.get('/docs', (c) => {
    if (configFor(c.env).ENVIRONMENT === 'production') return handleNotFound(c);
    return c.html(DOCS_HTML);
  });
  app.route('/api/auth', auth);
  app.route('/api/tenants', tenantsRoute);
  app.route('/api/users', usersRoute);
  app.route('/api/invitations', invitationsRoute);
  app.route('/api/api-keys', apiKeysRoute);
  app.route('/api/devices', metricsRoute);
  app.route('/api/devices', devicesRoute);
  app.route('/api/devices', configBackupsRoute);
  app.route('/api/devices', deviceConfigRoute);
  app.route('/api/config-backups', configHistoryRoute);
  app.route('/api/config-templates', configTemplatesRoute);
  app.route('/api/config-batches', configBatchesRoute);
  app.route('/api/config-backups', configRestoreRoute);
  app.route('/api/config-operations', configOperationsRoute);
  app.route('/api/device-groups', deviceGroupsRoute);
  app.route('/api/tags', tagsRoute);
  app.route('/api/collectors', collectorsRoute);
  app.route('/api/audit-logs', auditLogsRoute);
  app.route('/api/settings', settingsRoute);
  app.route('/api/kms-events', kmsEventsRoute);
  app.route('/api/sse', sseRoute);
  app.route('/api/hub', hubRoute);
  app.route('/api/alert-rules', alertRulesRoute);
  app.route('/api/alerts', alertsRoute);
  app.route('/api/maintenance-windows', maintenanceWindowsRoute);
  app.route('/api/notification-channels', notificationChannelsRoute);
  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
