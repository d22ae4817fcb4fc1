-- Configuration backups (issue #8): one row per distinct configuration of a device, in order. The export text
-- is normalised (volatile header lines removed) before it is hashed, and sealed with the tenant's data key
-- (envelope encryption, purpose 'config-snapshot'); only metadata is readable without the key. A snapshot
-- whose hash equals the device's latest one is not stored, so an unchanged configuration adds no row, while
-- a return to an earlier configuration (A, B, A) is a change and does.
CREATE TABLE config_snapshots (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  device_id uuid NOT NULL,
  -- 1, 2, 3, … per device: the version number users see; unique so two concurrent writers cannot both
  -- append after the same predecessor.
  seq integer NOT NULL CHECK (seq > 0),
  -- When the collector exported it (device history order), and when the edge stored it.
  taken_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  trigger text NOT NULL CHECK (trigger IN ('change', 'nightly', 'manual')),
  -- SHA-256 (hex) of the normalised export text.
  content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  -- Bytes of the normalised text (UTF-8) before encryption.
  size integer NOT NULL CHECK (size >= 0),
  -- Exported with show-sensitive: contains secrets; only operators and above may download it.
  sensitive boolean NOT NULL,
  content_enc bytea NOT NULL,
  routeros_version text,
  -- The collector event that produced it: a redelivered event is recognised and stored once.
  source_event_id text,
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
  UNIQUE (device_id, seq),
  UNIQUE (tenant_id, source_event_id),
  UNIQUE (tenant_id, id)
);
CREATE INDEX config_snapshots_tenant_device_idx ON config_snapshots (tenant_id, device_id, seq DESC);

ALTER TABLE config_snapshots ENABLE ROW LEVEL SECURITY;
CREATE POLICY config_snapshots_isolation ON config_snapshots
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

-- History is append-only for the application except for deletion (retention, device removal cascades).
GRANT SELECT, INSERT, DELETE ON config_snapshots TO tod_app;
