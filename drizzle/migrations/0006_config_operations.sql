-- Configuration operations (issue #8): every change applied to a device through the edge (editor changes, a
-- script, a restore of a snapshot), standard or safe, with its state as the collector reports it through
-- `config-operation` events: applying → applied | pending-confirmation → confirmed | reverted, or failed with
-- the device's own error text. The commands are kept as run (a restore keeps a note, not the export text).
CREATE TABLE config_operations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  device_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('changes', 'script', 'restore')),
  mode text NOT NULL CHECK (mode IN ('standard', 'safe')),
  state text NOT NULL CHECK (state IN ('applying', 'pending-confirmation', 'confirmed', 'reverted', 'failed', 'applied')),
  commands jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(commands) = 'array'),
  error text,
  timeout_seconds integer CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
  -- Safe apply: when the device reverts by itself unless confirmed.
  confirm_deadline timestamptz,
  snapshot_id uuid,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
  UNIQUE (tenant_id, id)
);
CREATE INDEX config_operations_tenant_created_idx ON config_operations (tenant_id, created_at DESC, id DESC);
CREATE INDEX config_operations_device_idx ON config_operations (tenant_id, device_id, created_at DESC);

ALTER TABLE config_operations ENABLE ROW LEVEL SECURITY;
CREATE POLICY config_operations_isolation ON config_operations
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

GRANT SELECT, INSERT, UPDATE, DELETE ON config_operations TO tod_app;
