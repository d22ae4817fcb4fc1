-- Alerting: rules evaluated by the TenantHub (hysteresis state lives in the Durable Object), the alerts they
-- raise, maintenance windows that silence notifications, notification channels (secrets sealed with the
-- tenant's data key) and the record of every delivery attempt. All tenant tables, all under RLS.

CREATE TABLE alert_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  metric text NOT NULL CHECK (metric IN ('cpu_load', 'memory_used_pct', 'disk_used_pct', 'temperature',
    'voltage', 'interface_rx_bps', 'interface_tx_bps', 'wireless_signal', 'device_offline')),
  -- NULL only for device_offline, which has no threshold.
  comparison text CHECK (comparison IN ('gt', 'gte', 'lt', 'lte', 'eq', 'ne')),
  threshold double precision,
  -- The breach must also have lasted this long (from its first breaching sample) before the rule fires.
  duration_seconds integer NOT NULL DEFAULT 0 CHECK (duration_seconds BETWEEN 0 AND 604800),
  severity text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
  scope text NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'group', 'tag', 'device')),
  scope_target_id uuid,
  -- Interface metrics: only this interface (NULL = each interface on its own); wireless: only this interface.
  interface_name text CHECK (length(interface_name) BETWEEN 1 AND 128),
  fire_after integer NOT NULL DEFAULT 2 CHECK (fire_after BETWEEN 1 AND 100),
  clear_after integer NOT NULL DEFAULT 2 CHECK (clear_after BETWEEN 1 AND 100),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CONSTRAINT alert_rules_scope_target CHECK ((scope = 'all') = (scope_target_id IS NULL)),
  CONSTRAINT alert_rules_threshold CHECK (
    (metric = 'device_offline') = (comparison IS NULL) AND (comparison IS NULL) = (threshold IS NULL))
);
CREATE INDEX alert_rules_tenant_name_idx ON alert_rules (tenant_id, name, id);

CREATE TABLE notification_channels (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('email', 'webhook', 'slack')),
  -- Settings that may be shown (SMTP host/port/user/from/to, webhook URL).
  config jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Envelope-encrypted JSON of the secrets (SMTP password, webhook HMAC secret, Slack webhook URL); never
  -- returned by the API.
  secrets_enc bytea,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Which channels a rule notifies. The composite keys keep both ends in one tenant.
CREATE TABLE alert_rule_channels (
  tenant_id uuid NOT NULL,
  rule_id uuid NOT NULL,
  channel_id uuid NOT NULL,
  PRIMARY KEY (rule_id, channel_id),
  FOREIGN KEY (tenant_id, rule_id) REFERENCES alert_rules (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, channel_id) REFERENCES notification_channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_rule_channels_channel_idx ON alert_rule_channels (channel_id);

CREATE TABLE alerts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- History outlives the rule: the rule's name, metric and severity are copied.
  rule_id uuid,
  rule_name text NOT NULL,
  metric text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  device_id uuid NOT NULL,
  -- What inside the device: an interface name for interface metrics, '' otherwise.
  subject text NOT NULL DEFAULT '',
  state text NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'resolved')),
  value double precision,
  threshold double precision,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  -- Inside a maintenance window: recorded, but no notification is sent.
  suppressed boolean NOT NULL DEFAULT false,
  acknowledged_by uuid,
  acknowledged_at timestamptz,
  resolution text CHECK (resolution IN ('auto', 'manual')),
  resolved_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, rule_id) REFERENCES alert_rules (tenant_id, id) ON DELETE SET NULL (rule_id),
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT alerts_resolution CHECK ((state = 'resolved') = (resolution IS NOT NULL AND ended_at IS NOT NULL))
);
-- One open alert per rule, device and subject: a replayed transition after a crash records nothing twice.
CREATE UNIQUE INDEX alerts_one_firing_idx ON alerts (tenant_id, rule_id, device_id, subject)
  WHERE state = 'firing';
CREATE INDEX alerts_tenant_state_time_idx ON alerts (tenant_id, state, started_at DESC, id DESC);
CREATE INDEX alerts_tenant_time_idx ON alerts (tenant_id, started_at DESC, id DESC);
CREATE INDEX alerts_device_idx ON alerts (device_id);

CREATE TABLE maintenance_windows (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope text NOT NULL DEFAULT 'fleet' CHECK (scope IN ('fleet', 'group', 'device')),
  scope_target_id uuid,
  -- once: [starts_at, ends_at); weekly: on each of `weekdays` (0 = Sunday) at local `start_time` in
  -- `time_zone`, for `duration_minutes`.
  kind text NOT NULL CHECK (kind IN ('once', 'weekly')),
  starts_at timestamptz,
  ends_at timestamptz,
  weekdays smallint[],
  start_time text CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  duration_minutes integer CHECK (duration_minutes BETWEEN 1 AND 10080),
  time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT maintenance_windows_scope_target CHECK ((scope = 'fleet') = (scope_target_id IS NULL)),
  CONSTRAINT maintenance_windows_once CHECK (
    kind <> 'once' OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at)),
  CONSTRAINT maintenance_windows_weekly CHECK (
    kind <> 'weekly' OR (weekdays IS NOT NULL AND cardinality(weekdays) BETWEEN 1 AND 7
      AND weekdays <@ ARRAY[0, 1, 2, 3, 4, 5, 6]::smallint[]
      AND start_time IS NOT NULL AND duration_minutes IS NOT NULL AND time_zone IS NOT NULL))
);
CREATE INDEX maintenance_windows_tenant_idx ON maintenance_windows (tenant_id, name, id);

CREATE TABLE notification_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL,
  -- NULL for a "send test" delivery.
  alert_id uuid,
  event text NOT NULL CHECK (event IN ('firing', 'resolved', 'test')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz,
  -- The notice as it was when the alert changed, so a retry sends what happened then.
  payload jsonb NOT NULL,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES notification_channels (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE
);
-- One delivery per alert change and channel, whatever replays.
CREATE UNIQUE INDEX notification_deliveries_once_idx ON notification_deliveries (alert_id, channel_id, event)
  WHERE alert_id IS NOT NULL;
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (tenant_id, next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, created_at DESC);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['alert_rules', 'notification_channels', 'alert_rule_channels', 'alerts',
                           'maintenance_windows', 'notification_deliveries']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant())) '
      'WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))',
      t || '_isolation', t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rules, notification_channels, alert_rule_channels, alerts,
  maintenance_windows, notification_deliveries TO tod_app;
