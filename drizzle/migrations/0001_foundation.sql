-- Foundation schema: tenants, users, collectors, devices, groups, tags, audit log, API keys.
-- Runs as the owner role. The application role (tod_app) is granted DML only and never owns a table,
-- so row-level security always applies to it; tenant rows are visible only under app.tenant_id.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The tenant of the current transaction, set by the edge with set_config('app.tenant_id', $1, true).
CREATE FUNCTION tod_current_tenant() RETURNS uuid
LANGUAGE sql STABLE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL only for super admins, who belong to no tenant.
  tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email) AND position('@' in email) > 1),
  name text NOT NULL DEFAULT '',
  role text NOT NULL CHECK (role IN ('super_admin', 'admin', 'operator', 'viewer')),
  srp_salt text,
  srp_verifier text,
  -- Secret Key metadata only: the key itself never leaves the browser.
  secret_key_id text,
  secret_key_version integer NOT NULL DEFAULT 0,
  secret_key_created_at timestamptz,
  must_enroll boolean NOT NULL DEFAULT true,
  disabled_at timestamptz,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_email_unique UNIQUE (email),
  CONSTRAINT users_super_admin_has_no_tenant CHECK ((role = 'super_admin') = (tenant_id IS NULL)),
  CONSTRAINT users_srp_pair CHECK ((srp_salt IS NULL) = (srp_verifier IS NULL))
);
CREATE INDEX users_tenant_idx ON users (tenant_id);

CREATE TABLE collectors (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  site text NOT NULL DEFAULT '',
  -- JWK of the collector's public key; device credentials are sealed to it.
  public_key jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'online', 'offline', 'revoked')),
  version text,
  last_seen_at timestamptz,
  enrolled_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX collectors_tenant_idx ON collectors (tenant_id);

CREATE TABLE devices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  collector_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  host text NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
  port integer NOT NULL DEFAULT 8728 CHECK (port BETWEEN 1 AND 65535),
  -- Which TLS tiers the collector may use: strict = CA-verified only, self_signed = verified or
  -- self-signed, any = TLS tiers then plain API, plain = plain API only.
  tls_mode text NOT NULL DEFAULT 'any' CHECK (tls_mode IN ('strict', 'self_signed', 'any', 'plain')),
  -- Envelope-encrypted (tenant data key) username/password; never returned by the API.
  credentials_enc bytea,
  credentials_key_version integer,
  model text,
  board_name text,
  serial text,
  routeros_version text,
  firmware text,
  architecture text,
  status text NOT NULL DEFAULT 'unknown'
    CHECK (status IN ('unknown', 'online', 'offline', 'degraded', 'unreachable', 'auth_failed', 'tls_failed')),
  last_seen_at timestamptz,
  latitude double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude double precision CHECK (longitude BETWEEN -180 AND 180),
  notes text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A device may only point at a collector of its own tenant.
  FOREIGN KEY (tenant_id, collector_id) REFERENCES collectors (tenant_id, id) ON DELETE SET NULL (collector_id),
  UNIQUE (tenant_id, id)
);
-- Keyset pagination: (tenant, sort key, id) indexes for the common sorts.
CREATE INDEX devices_tenant_name_idx ON devices (tenant_id, name, id);
CREATE INDEX devices_tenant_status_idx ON devices (tenant_id, status, id);
CREATE INDEX devices_tenant_collector_idx ON devices (tenant_id, collector_id);
CREATE INDEX devices_tenant_host_idx ON devices (tenant_id, host);

CREATE TABLE device_groups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE device_group_members (
  tenant_id uuid NOT NULL,
  group_id uuid NOT NULL,
  device_id uuid NOT NULL,
  PRIMARY KEY (group_id, device_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES device_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_group_members_device_idx ON device_group_members (device_id);

CREATE TABLE tags (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  color text NOT NULL DEFAULT '#64748b' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE device_tags (
  tenant_id uuid NOT NULL,
  tag_id uuid NOT NULL,
  device_id uuid NOT NULL,
  PRIMARY KEY (tag_id, device_id),
  FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_tags_device_idx ON device_tags (device_id);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- First characters of the key for display ("mktp_ab12…"); the key itself is stored only as SHA-256.
  prefix text NOT NULL,
  key_hash bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  role text NOT NULL CHECK (role IN ('operator', 'viewer')),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

-- Append-only: the application role may INSERT and SELECT only, and a trigger refuses changes for everyone.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL for events outside any tenant (super admin actions, failed logins of unknown accounts).
  -- No foreign key: the trail outlives a deleted tenant.
  tenant_id uuid,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'collector', 'system', 'anonymous')),
  actor_id uuid,
  action text NOT NULL CHECK (action ~ '^[a-z0-9_]+(\.[a-z0-9_]+)+$'),
  target_type text,
  target_id text,
  outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure')),
  ip inet,
  user_agent text,
  request_id text,
  -- Envelope-encrypted JSON details (tenant data key).
  details_enc bytea,
  txid bigint NOT NULL DEFAULT txid_current(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, created_at DESC, id DESC);

CREATE FUNCTION tod_audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION tod_audit_log_is_append_only();

-- Cross-tenant access (super admins) is allowed only in a transaction that first wrote an audit entry
-- 'cross_tenant.access' and named it in app.cross_tenant_audit_id: the database, not the handler, enforces
-- that every cross-tenant read or write is audited. SECURITY DEFINER so the check sees the audit row
-- regardless of the caller's tenant.
CREATE FUNCTION tod_cross_tenant() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT EXISTS (
    SELECT 1 FROM audit_log
    WHERE id = NULLIF(current_setting('app.cross_tenant_audit_id', true), '')::bigint
      AND txid = txid_current()
      AND action = 'cross_tenant.access'
  )
$$;

-- The one way into cross-tenant mode: writes the audit record and names it for this transaction only.
CREATE FUNCTION tod_begin_cross_tenant(actor uuid, reason text, request text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE entry bigint;
BEGIN
  IF actor IS NULL OR coalesce(length(reason), 0) = 0 THEN
    RAISE EXCEPTION 'cross-tenant access needs an actor and a reason' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO audit_log (actor_type, actor_id, action, target_type, target_id, request_id)
    VALUES ('user', actor, 'cross_tenant.access', 'reason', left(reason, 200), request)
    RETURNING id INTO entry;
  PERFORM set_config('app.cross_tenant_audit_id', entry::text, true);
  RETURN entry;
END $$;

-- Row-level security on every tenant table. The application role never owns a table, so it cannot
-- bypass these policies.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
-- A tenant sees and may update its own row; creating and deleting tenants is cross-tenant (super admin) only.
CREATE POLICY tenants_read ON tenants FOR SELECT
  USING (id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
CREATE POLICY tenants_update ON tenants FOR UPDATE
  USING (id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
CREATE POLICY tenants_create ON tenants FOR INSERT WITH CHECK ((SELECT tod_cross_tenant()));
CREATE POLICY tenants_delete ON tenants FOR DELETE USING ((SELECT tod_cross_tenant()));

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'collectors', 'devices', 'device_groups', 'device_group_members', 'tags',
                           'device_tags', 'api_keys']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant())) '
      'WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))',
      t || '_isolation', t);
  END LOOP;
END $$;

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
-- Anyone may append an entry for their own tenant, or a tenant-less one (failed login of an unknown
-- account, the cross-tenant access record itself).
CREATE POLICY audit_log_append ON audit_log FOR INSERT
  WITH CHECK (tenant_id IS NULL OR tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

-- Grants for the application role: DML on tenant tables, append/read on the audit log, nothing else.
GRANT USAGE ON SCHEMA public TO tod_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, collectors, devices, device_groups,
  device_group_members, tags, device_tags, api_keys TO tod_app;
GRANT SELECT, INSERT ON audit_log TO tod_app;
REVOKE EXECUTE ON FUNCTION tod_begin_cross_tenant(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tod_current_tenant(), tod_cross_tenant(), tod_begin_cross_tenant(uuid, text, text) TO tod_app;
REVOKE EXECUTE ON FUNCTION tod_audit_log_is_append_only() FROM PUBLIC;
