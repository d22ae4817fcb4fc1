-- Batch configuration (issue #8): reusable templates with typed variables, and batches that run one change,
-- template, script or bulk CLI command over a selection of devices. A batch is driven by a BatchRunner
-- Durable Object; its rows here are the source of truth, so the runner resumes after an eviction and the
-- report outlives it. Scripts and rendered commands are stored as sent (like single-device operations).
CREATE TABLE config_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 65536),
  -- [{ name, type, required, default?, options?, min?, max?, fact? }] (contracts TemplateVariable).
  variables jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(variables) = 'array'),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE config_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('changes', 'script', 'template', 'cli')),
  -- The request's action (changes, script, or template id and values).
  action jsonb NOT NULL,
  -- Kept when the template is later deleted (the items hold what was rendered).
  template_id uuid,
  mode text NOT NULL CHECK (mode IN ('standard', 'safe')),
  timeout_seconds integer NOT NULL CHECK (timeout_seconds BETWEEN 5 AND 3600),
  concurrency integer NOT NULL CHECK (concurrency BETWEEN 1 AND 50),
  stop_on_failure boolean NOT NULL,
  note text,
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'stopped', 'cancelled')),
  cancel_requested_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE INDEX config_batches_tenant_created_idx ON config_batches (tenant_id, created_at DESC, id DESC);

CREATE TABLE config_batch_items (
  tenant_id uuid NOT NULL,
  batch_id uuid NOT NULL,
  device_id uuid NOT NULL,
  -- Run order (selection order); also the order of the report.
  position integer NOT NULL CHECK (position >= 0),
  -- The name when the batch started, so the report reads the same after a rename or removal.
  device_name text NOT NULL,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
  commands jsonb NOT NULL DEFAULT '[]'::jsonb,
  output text,
  error text,
  operation_id uuid,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (batch_id, device_id),
  FOREIGN KEY (tenant_id, batch_id) REFERENCES config_batches (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX config_batch_items_order_idx ON config_batch_items (batch_id, position);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['config_templates', 'config_batches', 'config_batch_items'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant())) '
      'WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))',
      t || '_isolation', t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON config_templates TO tod_app;
-- Batches are kept as the record of what was done: updated while they run, deleted only with the tenant.
GRANT SELECT, INSERT, UPDATE ON config_batches, config_batch_items TO tod_app;
