// The API description: every route with its role, request schemas (the same contracts/ zod schemas the
// handlers parse with) and summary, rendered as OpenAPI 3.1 at /api/openapi.json. A test checks that this
// list and the routes the app actually serves are the same.
import {
  AcceptInvitationRequest,
  AlertActionRequest,
  AlertListQuery,
  ApplyBody,
  AuditListQuery,
  BinaryBackupBody,
  BootstrapEnrolRequest,
  ConfigBatchListQuery,
  ConfigDiffQuery,
  ConfigSnapshotListQuery,
  ConfigTemplateListQuery,
  CreateAlertRuleRequest,
  CreateApiKeyRequest,
  CreateCollectorRequest,
  CreateConfigBatchRequest,
  CreateConfigTemplateRequest,
  CreateDeviceGroupRequest,
  CreateDeviceRequest,
  CreateInvitationRequest,
  CreateMaintenanceWindowRequest,
  CreateNotificationChannelRequest,
  CreateTagRequest,
  CreateTenantRequest,
  DeviceListQuery,
  EnrollRequest,
  MenuQuery,
  MetricsQuery,
  NameListQuery,
  NatsCredentialsRenewRequest,
  OperationListQuery,
  PreviewBody,
  PreviewTemplateRequest,
  ReenrolRequest,
  RestoreBody,
  SetDevicesRequest,
  SrpInitRequest,
  SrpVerifyRequest,
  SseQuery,
  UpdateAlertRuleRequest,
  UpdateBackupPolicyRequest,
  UpdateConfigTemplateRequest,
  UpdateDeviceGroupRequest,
  UpdateDeviceRequest,
  UpdateMaintenanceWindowRequest,
  UpdateNotificationChannelRequest,
  UpdateTagRequest,
  UpdateTenantRequest,
  UpdateUserRequest,
} from '@tod/contracts';
import { z } from 'zod';

export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  /** least role; 'public' for unauthenticated routes */
  role: 'public' | 'super_admin' | 'admin' | 'operator' | 'viewer';
  body?: z.ZodType;
  /** The body may be left out entirely. */
  bodyOptional?: boolean;
  query?: z.ZodType;
  tag: string;
}

const r = (
  method: RouteDoc['method'],
  path: string,
  role: RouteDoc['role'],
  tag: string,
  summary: string,
  extra: Pick<RouteDoc, 'body' | 'bodyOptional' | 'query'> = {},
): RouteDoc => ({ method, path, role, tag, summary, ...extra });

export const ROUTE_DOCS: RouteDoc[] = [
  r('get', '/health', 'public', 'health', 'Liveness'),
  r('get', '/health/ready', 'public', 'health', 'Readiness (Postgres and NATS)'),
  r('post', '/api/auth/srp/init', 'public', 'auth', 'SRP-6a step 1: salt and server ephemeral B', {
    body: SrpInitRequest,
  }),
  r(
    'post',
    '/api/auth/srp/verify',
    'public',
    'auth',
    'SRP-6a step 2: client proof M1; answers M2 and sets the session cookies',
    {
      body: SrpVerifyRequest,
    },
  ),
  r(
    'post',
    '/api/auth/bootstrap',
    'public',
    'auth',
    'First admin: exchange the bootstrap password for an SRP verifier (once)',
    {
      body: BootstrapEnrolRequest,
    },
  ),
  r(
    'post',
    '/api/auth/invitations/accept',
    'public',
    'auth',
    'Accept an invitation with a first SRP verifier',
    {
      body: AcceptInvitationRequest,
    },
  ),
  r(
    'post',
    '/api/auth/srp/reenroll',
    'viewer',
    'auth',
    'Password change / Secret Key rotation after a fresh proof',
    {
      body: ReenrolRequest,
    },
  ),
  r(
    'post',
    '/api/auth/refresh',
    'public',
    'auth',
    'Rotate the refresh token (cookie); a reused token revokes its family',
  ),
  r('post', '/api/auth/logout', 'public', 'auth', 'Revoke the session family and clear cookies'),
  r('get', '/api/auth/me', 'viewer', 'auth', 'The calling user or API key'),
  r('get', '/api/tenants', 'super_admin', 'tenants', 'List tenants', { query: NameListQuery }),
  r('post', '/api/tenants', 'super_admin', 'tenants', 'Create a tenant', { body: CreateTenantRequest }),
  r('get', '/api/tenants/{id}', 'super_admin', 'tenants', 'Get a tenant'),
  r('patch', '/api/tenants/{id}', 'super_admin', 'tenants', 'Rename a tenant', { body: UpdateTenantRequest }),
  r('delete', '/api/tenants/{id}', 'super_admin', 'tenants', 'Delete a tenant and all its data'),
  r('get', '/api/users', 'admin', 'users', 'List users of the tenant', { query: NameListQuery }),
  r('get', '/api/users/{id}', 'admin', 'users', 'Get a user'),
  r('patch', '/api/users/{id}', 'admin', 'users', 'Rename, change role, disable', {
    body: UpdateUserRequest,
  }),
  r('delete', '/api/users/{id}', 'admin', 'users', 'Delete a user'),
  r('get', '/api/invitations', 'admin', 'users', 'List invitations', { query: NameListQuery }),
  r('post', '/api/invitations', 'admin', 'users', 'Invite (the token is in this response only)', {
    body: CreateInvitationRequest,
  }),
  r('delete', '/api/invitations/{id}', 'admin', 'users', 'Revoke an invitation'),
  r('get', '/api/api-keys', 'admin', 'api-keys', 'List API keys (never the keys)', { query: NameListQuery }),
  r('post', '/api/api-keys', 'admin', 'api-keys', 'Create an API key (mktp_…, shown once)', {
    body: CreateApiKeyRequest,
  }),
  r('delete', '/api/api-keys/{id}', 'admin', 'api-keys', 'Revoke an API key'),
  r('get', '/api/devices', 'viewer', 'devices', 'List devices (keyset pages, filters, sorts)', {
    query: DeviceListQuery,
  }),
  r('post', '/api/devices', 'operator', 'devices', 'Add a device (credentials are write-only)', {
    body: CreateDeviceRequest,
  }),
  r(
    'post',
    '/api/devices/import',
    'operator',
    'devices',
    'Bulk import from CSV (text/csv; all rows or none)',
  ),
  r('get', '/api/devices/{id}', 'viewer', 'devices', 'Get a device'),
  r('patch', '/api/devices/{id}', 'operator', 'devices', 'Update a device', { body: UpdateDeviceRequest }),
  r('delete', '/api/devices/{id}', 'operator', 'devices', 'Delete a device'),
  r(
    'get',
    '/api/devices/{id}/config/snapshots',
    'viewer',
    'config-backups',
    'Configuration history, newest first',
    {
      query: ConfigSnapshotListQuery,
    },
  ),
  r(
    'get',
    '/api/devices/{id}/config/snapshots/diff',
    'viewer',
    'config-backups',
    'Diff two versions (unified and side by side); sensitive ones need operator',
    { query: ConfigDiffQuery },
  ),
  r(
    'get',
    '/api/devices/{id}/config/snapshots/{sid}',
    'viewer',
    'config-backups',
    'Download one version as text/plain; sensitive ones need operator',
  ),
  r(
    'get',
    '/api/config-backups/history.bundle',
    'operator',
    'config-backups',
    "The tenant's configuration history as a git bundle (one commit per change, one file per device)",
  ),
  r('get', '/api/config-templates', 'viewer', 'config-batches', 'List configuration templates', {
    query: ConfigTemplateListQuery,
  }),
  r('post', '/api/config-templates', 'operator', 'config-batches', 'Create a template with typed variables', {
    body: CreateConfigTemplateRequest,
  }),
  r('get', '/api/config-templates/{id}', 'viewer', 'config-batches', 'Get a template'),
  r('put', '/api/config-templates/{id}', 'operator', 'config-batches', 'Replace a template', {
    body: UpdateConfigTemplateRequest,
  }),
  r('delete', '/api/config-templates/{id}', 'operator', 'config-batches', 'Delete a template'),
  r(
    'post',
    '/api/config-templates/{id}/preview',
    'viewer',
    'config-batches',
    'What the template renders to on each device, or why it does not',
    { body: PreviewTemplateRequest },
  ),
  r('get', '/api/config-batches', 'viewer', 'config-batches', 'List batches, newest first, with counts', {
    query: ConfigBatchListQuery,
  }),
  r(
    'post',
    '/api/config-batches',
    'operator',
    'config-batches',
    'Run a change, template, script or CLI command on a selection of devices (202; progress on SSE config-batch)',
    { body: CreateConfigBatchRequest },
  ),
  r(
    'get',
    '/api/config-batches/{id}',
    'viewer',
    'config-batches',
    'A batch with per-device results (CLI: outputs grouped by identical answer)',
  ),
  r(
    'post',
    '/api/config-batches/{id}/cancel',
    'operator',
    'config-batches',
    'Cancel: devices not started are not run',
  ),
  r(
    'post',
    '/api/config-batches/{id}/confirm',
    'operator',
    'config-batches',
    'Safe batches: confirm every change still waiting for confirmation',
  ),
  r(
    'get',
    '/api/devices/{id}/config/menu',
    'viewer',
    'config',
    'Read a menu of the device live (secrets masked for viewers)',
    {
      query: MenuQuery,
    },
  ),
  r(
    'post',
    '/api/devices/{id}/config/preview',
    'viewer',
    'config',
    'The exact RouterOS commands for editor changes',
    {
      body: PreviewBody,
    },
  ),
  r(
    'post',
    '/api/devices/{id}/config/apply',
    'operator',
    'config',
    'Apply changes or a script, standard or safe',
    {
      body: ApplyBody,
    },
  ),
  r(
    'post',
    '/api/devices/{id}/config/binary-backup',
    'operator',
    'config',
    'Save a binary /system/backup on the device',
    {
      body: BinaryBackupBody,
    },
  ),
  r('get', '/api/config-operations', 'viewer', 'config', 'Configuration operations, newest first', {
    query: OperationListQuery,
  }),
  r('get', '/api/config-operations/{id}', 'viewer', 'config', 'One configuration operation'),
  r(
    'post',
    '/api/config-operations/{id}/confirm',
    'operator',
    'config',
    'Confirm a safe apply (removes the revert)',
  ),
  r(
    'post',
    '/api/config-backups/{id}/restore',
    'operator',
    'config-backups',
    'Restore a snapshot through safe apply',
    {
      body: RestoreBody,
    },
  ),
  r('get', '/api/device-groups', 'viewer', 'device-groups', 'List device groups', { query: NameListQuery }),
  r('post', '/api/device-groups', 'operator', 'device-groups', 'Create a device group', {
    body: CreateDeviceGroupRequest,
  }),
  r('get', '/api/device-groups/{id}', 'viewer', 'device-groups', 'Get a group with its device ids'),
  r('patch', '/api/device-groups/{id}', 'operator', 'device-groups', 'Update a group', {
    body: UpdateDeviceGroupRequest,
  }),
  r('put', '/api/device-groups/{id}/devices', 'operator', 'device-groups', 'Replace the members', {
    body: SetDevicesRequest,
  }),
  r('delete', '/api/device-groups/{id}', 'operator', 'device-groups', 'Delete a group'),
  r('get', '/api/tags', 'viewer', 'tags', 'List tags', { query: NameListQuery }),
  r('post', '/api/tags', 'operator', 'tags', 'Create a tag', { body: CreateTagRequest }),
  r('get', '/api/tags/{id}', 'viewer', 'tags', 'Get a tag'),
  r('patch', '/api/tags/{id}', 'operator', 'tags', 'Update a tag', { body: UpdateTagRequest }),
  r('put', '/api/tags/{id}/devices', 'operator', 'tags', 'Replace the tagged devices', {
    body: SetDevicesRequest,
  }),
  r('delete', '/api/tags/{id}', 'operator', 'tags', 'Delete a tag'),
  r('get', '/api/collectors', 'viewer', 'collectors', 'List collectors', { query: NameListQuery }),
  r('post', '/api/collectors', 'admin', 'collectors', 'Create a collector with a one-time enrol token', {
    body: CreateCollectorRequest,
  }),
  r(
    'post',
    '/api/collectors/enroll',
    'public',
    'collectors',
    'Collector enrolment: one-time token and public key',
    {
      body: EnrollRequest,
    },
  ),
  r(
    'post',
    '/api/collectors/nats-credentials',
    'public',
    'collectors',
    'Collector: renew its NATS JWT, signed with its nkey (refused once revoked)',
    { body: NatsCredentialsRenewRequest },
  ),
  r('get', '/api/collectors/{id}', 'viewer', 'collectors', 'Get a collector'),
  r('post', '/api/collectors/{id}/enroll-token', 'admin', 'collectors', 'Issue a new enrol token'),
  r('post', '/api/collectors/{id}/revoke', 'admin', 'collectors', 'Revoke a collector'),
  r('get', '/api/audit-logs', 'admin', 'audit', 'The tenant audit trail, newest first', {
    query: AuditListQuery,
  }),
  r('get', '/api/audit-logs/export.csv', 'admin', 'audit', 'Audit trail as CSV', { query: AuditListQuery }),
  r(
    'get',
    '/api/settings/backup-policy',
    'admin',
    'settings',
    'The tenant backup policy (secrets, nightly window)',
  ),
  r(
    'put',
    '/api/settings/backup-policy',
    'admin',
    'settings',
    'Change the backup policy (re-mirrors devices)',
    {
      body: UpdateBackupPolicyRequest,
    },
  ),
  r('get', '/api/kms-events', 'admin', 'audit', 'KMS uses of the tenant data key (transparency)'),
  r(
    'post',
    '/api/kms-events/rewrap',
    'admin',
    'audit',
    'Rewrap the tenant data keys after a KMS key rotation',
  ),
  r(
    'get',
    '/api/devices/{id}/metrics',
    'viewer',
    'devices',
    'A device’s samples over a range (raw, 5-minute or hourly by span; one interface or wireless client)',
    { query: MetricsQuery },
  ),
  r(
    'get',
    '/api/sse',
    'viewer',
    'live',
    'Server-sent events of the tenant (status, metrics, alerts, progress); Last-Event-ID resumes',
    { query: SseQuery },
  ),
  r('post', '/api/sse/token', 'viewer', 'live', 'A 60-second token for /api/sse?token= (no cookie needed)'),
  r(
    'get',
    '/api/hub/stats',
    'admin',
    'live',
    'The tenant hub’s ingest counters (stored, duplicates, dropped)',
  ),
  r('post', '/api/hub/maintenance', 'admin', 'live', 'Run partition, retention and rollup maintenance now'),
  r('get', '/api/alert-rules', 'viewer', 'alerting', 'List alert rules', { query: NameListQuery }),
  r('post', '/api/alert-rules', 'operator', 'alerting', 'Create an alert rule', {
    body: CreateAlertRuleRequest,
  }),
  r('get', '/api/alert-rules/{id}', 'viewer', 'alerting', 'Get an alert rule'),
  r('patch', '/api/alert-rules/{id}', 'operator', 'alerting', 'Update an alert rule', {
    body: UpdateAlertRuleRequest,
  }),
  r('delete', '/api/alert-rules/{id}', 'operator', 'alerting', 'Delete an alert rule (its alerts stay)'),
  r('get', '/api/alerts', 'viewer', 'alerting', 'Open and past alerts, newest first', {
    query: AlertListQuery,
  }),
  r('get', '/api/alerts/{id}', 'viewer', 'alerting', 'Get an alert'),
  r('post', '/api/alerts/{id}/acknowledge', 'operator', 'alerting', 'Acknowledge an alert (optional note)', {
    body: AlertActionRequest,
    bodyOptional: true,
  }),
  r(
    'post',
    '/api/alerts/{id}/resolve',
    'operator',
    'alerting',
    'Resolve an open alert by hand (optional note)',
    {
      body: AlertActionRequest,
    },
  ),
  r('get', '/api/maintenance-windows', 'viewer', 'alerting', 'List maintenance windows', {
    query: NameListQuery,
  }),
  r('post', '/api/maintenance-windows', 'operator', 'alerting', 'Create a one-off or weekly window', {
    body: CreateMaintenanceWindowRequest,
  }),
  r('get', '/api/maintenance-windows/{id}', 'viewer', 'alerting', 'Get a maintenance window'),
  r('patch', '/api/maintenance-windows/{id}', 'operator', 'alerting', 'Update a maintenance window', {
    body: UpdateMaintenanceWindowRequest,
  }),
  r('delete', '/api/maintenance-windows/{id}', 'operator', 'alerting', 'Delete a maintenance window'),
  r('get', '/api/notification-channels', 'operator', 'alerting', 'List notification channels (no secrets)', {
    query: NameListQuery,
  }),
  r('post', '/api/notification-channels', 'admin', 'alerting', 'Create an email, webhook or Slack channel', {
    body: CreateNotificationChannelRequest,
  }),
  r('get', '/api/notification-channels/{id}', 'operator', 'alerting', 'Get a channel (secrets by name only)'),
  r(
    'patch',
    '/api/notification-channels/{id}',
    'admin',
    'alerting',
    'Update a channel (secrets write-only)',
    {
      body: UpdateNotificationChannelRequest,
    },
  ),
  r('delete', '/api/notification-channels/{id}', 'admin', 'alerting', 'Delete a channel'),
  r('post', '/api/notification-channels/{id}/test', 'admin', 'alerting', 'Send a test notification now'),
  r('get', '/api/notification-channels/{id}/deliveries', 'operator', 'alerting', 'Recent deliveries'),
  r('get', '/api/openapi.json', 'public', 'meta', 'This document'),
  r('get', '/docs', 'public', 'meta', 'Swagger UI (not in production)'),
];

const ERROR = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        requestId: { type: 'string' },
        details: { type: 'array', items: { type: 'object' } },
      },
    },
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<
    string,
    unknown
  >;
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of ROUTE_DOCS) {
    const params: unknown[] = [];
    for (const [, name] of d.path.matchAll(/\{(\w+)\}/g)) {
      params.push({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    }
    if (d.query) {
      const q = jsonSchema(d.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        params.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
      }
    }
    const op: Record<string, unknown> = {
      summary: d.summary,
      tags: [d.tag],
      'x-min-role': d.role,
      parameters: params,
      responses: {
        '2XX': { description: 'success' },
        '4XX': { description: 'error', content: { 'application/json': { schema: ERROR } } },
      },
    };
    if (d.role !== 'public') op.security = [{ session: [] }, { bearer: [] }, { apiKey: [] }];
    if (d.body) {
      op.requestBody = {
        required: !d.bodyOptional,
        content: { 'application/json': { schema: jsonSchema(d.body) } },
      };
    }
    paths[d.path] ??= {};
    paths[d.path]![d.method] = op;
  }
  return {
    openapi: '3.0.3',
    info: { title: 'TOD edge API', version },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'tod_access' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    paths,
  };
}

/** Swagger UI for development only (loads the UI from a CDN, hence its own CSP). */
export const DOCS_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>TOD API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div><script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#ui' });</script></body></html>`;
