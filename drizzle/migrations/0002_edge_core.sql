-- Edge API core: SRP handshakes, refresh-token families, invitations, per-tenant data keys, KMS use log,
-- collector enrolment tokens, and the narrow SECURITY DEFINER functions the edge needs before it knows a
-- tenant (login by email, API key by hash, invitation by token).

-- One SRP-6a handshake between /api/auth/srp/init and /verify. Short-lived and consumed once. No tenant:
-- it exists before anyone is authenticated. user_id is NULL for unknown emails (the handshake still
-- happens, with a fake verifier, so the answer does not reveal whether an account exists).
CREATE TABLE srp_handshakes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  email text NOT NULL,
  server_secret text NOT NULL,
  server_public text NOT NULL,
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX srp_handshakes_expires_idx ON srp_handshakes (expires_at);

-- Refresh tokens: one row per issued token (id = the JWT's jti). Tokens of one login share a family; a
-- token used twice revokes the whole family.
CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  family_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email text NOT NULL CHECK (email = lower(email) AND position('@' in email) > 1),
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  invited_by uuid,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at DESC);

-- Per-tenant AES-256-GCM data keys, wrapped by the KMS (local master key or Vault/OpenBao Transit).
CREATE TABLE tenant_keys (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  kms text NOT NULL CHECK (kms IN ('local', 'transit')),
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

-- Every KMS use (generate, wrap, unwrap), for the transparency view. Append-only like the audit log.
CREATE TABLE kms_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid NOT NULL,
  operation text NOT NULL CHECK (operation IN ('generate', 'wrap', 'unwrap', 'rewrap')),
  kms text NOT NULL,
  key_version integer NOT NULL,
  purpose text NOT NULL DEFAULT '',
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kms_events_tenant_time_idx ON kms_events (tenant_id, created_at DESC, id DESC);
CREATE TRIGGER kms_events_append_only BEFORE UPDATE OR DELETE ON kms_events
  FOR EACH ROW EXECUTE FUNCTION tod_audit_log_is_append_only();

-- A collector enrols with a one-time token (stored as SHA-256) issued by an admin.
ALTER TABLE collectors
  ADD COLUMN enroll_token_hash bytea UNIQUE CHECK (length(enroll_token_hash) = 32),
  ADD COLUMN enroll_token_expires_at timestamptz;

-- Keyset pagination on the remaining device sorts.
CREATE INDEX devices_tenant_host_id_idx ON devices (tenant_id, host, id);
CREATE INDEX devices_tenant_created_idx ON devices (tenant_id, created_at, id);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY invitations_isolation ON invitations
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_keys_isolation ON tenant_keys
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
ALTER TABLE kms_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY kms_events_read ON kms_events FOR SELECT
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));
CREATE POLICY kms_events_append ON kms_events FOR INSERT
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

GRANT SELECT, INSERT, UPDATE, DELETE ON srp_handshakes TO tod_app;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO tod_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO tod_app;
-- UPDATE of the wrapped form only: rewrapping after a KMS key rotation keeps the same data key.
GRANT SELECT, INSERT ON tenant_keys TO tod_app;
GRANT UPDATE (wrapped_key) ON tenant_keys TO tod_app;
GRANT SELECT, INSERT ON kms_events TO tod_app;

-- Pre-authentication lookups. Users are tenant rows (and super admins have no tenant), so before login the
-- edge can only see the few columns these functions return.
CREATE TYPE tod_auth_user AS (
  id uuid,
  tenant_id uuid,
  email text,
  name text,
  role text,
  srp_salt text,
  srp_verifier text,
  secret_key_id text,
  must_enroll boolean,
  disabled boolean
);

CREATE FUNCTION tod_auth_user_by_email(p_email text) RETURNS SETOF tod_auth_user
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT id, tenant_id, email, name, role, srp_salt, srp_verifier, secret_key_id, must_enroll,
         disabled_at IS NOT NULL
  FROM users WHERE email = lower(p_email)
$$;

CREATE FUNCTION tod_auth_user_by_id(p_id uuid) RETURNS SETOF tod_auth_user
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT id, tenant_id, email, name, role, srp_salt, srp_verifier, secret_key_id, must_enroll,
         disabled_at IS NOT NULL
  FROM users WHERE id = p_id
$$;

-- First start: creates the super admin from FIRST_ADMIN_EMAIL when no super admin exists yet. Returns its
-- id, or NULL when one already exists.
CREATE FUNCTION tod_auth_bootstrap_admin(p_email text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE created uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(7150918);
  IF EXISTS (SELECT 1 FROM users WHERE role = 'super_admin') THEN
    RETURN NULL;
  END IF;
  INSERT INTO users (tenant_id, email, name, role, must_enroll)
    VALUES (NULL, lower(p_email), 'Administrator', 'super_admin', true)
    RETURNING id INTO created;
  INSERT INTO audit_log (actor_type, action, target_type, target_id)
    VALUES ('system', 'user.bootstrap', 'user', created::text);
  RETURN created;
END $$;

-- Stores a new SRP verifier for a user. With p_first_only the user must not have one yet (bootstrap and
-- invitation enrolment); otherwise it replaces the old one (password change, Secret Key rotation).
CREATE FUNCTION tod_auth_enroll(p_user uuid, p_salt text, p_verifier text, p_secret_key_id text,
                                p_first_only boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE users SET srp_salt = p_salt, srp_verifier = p_verifier, secret_key_id = p_secret_key_id,
                   secret_key_version = secret_key_version + 1, secret_key_created_at = now(),
                   must_enroll = false, updated_at = now()
    WHERE id = p_user AND disabled_at IS NULL AND (NOT p_first_only OR srp_verifier IS NULL);
  RETURN FOUND;
END $$;

CREATE FUNCTION tod_auth_record_login(p_user uuid) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ UPDATE users SET last_login_at = now() WHERE id = p_user $$;

-- X-API-Key: finds a live key by its SHA-256 and records its use.
CREATE FUNCTION tod_api_key_authenticate(p_hash bytea)
  RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, role text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE api_keys k SET last_used_at = now()
  WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
  RETURNING k.id, k.tenant_id, k.user_id, k.role
$$;

-- Accepting an invitation: consumes the token and creates the user with their first SRP verifier.
CREATE FUNCTION tod_invitation_accept(p_token_hash bytea, p_name text, p_salt text, p_verifier text,
                                      p_secret_key_id text)
  RETURNS TABLE (user_id uuid, tenant_id uuid, email text, role text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE inv invitations%ROWTYPE;
DECLARE created uuid;
BEGIN
  UPDATE invitations i SET accepted_at = now()
    WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.revoked_at IS NULL
      AND i.expires_at > now()
    RETURNING * INTO inv;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM users u WHERE u.email = inv.email) THEN
    RAISE EXCEPTION 'a user with this email exists' USING ERRCODE = 'unique_violation';
  END IF;
  INSERT INTO users (tenant_id, email, name, role, srp_salt, srp_verifier, secret_key_id,
                     secret_key_version, secret_key_created_at, must_enroll)
    VALUES (inv.tenant_id, inv.email, left(p_name, 200), inv.role, p_salt, p_verifier, p_secret_key_id,
            1, now(), false)
    RETURNING id INTO created;
  RETURN QUERY SELECT created, inv.tenant_id, inv.email, inv.role;
END $$;

-- A collector enrols with its one-time token (stored as SHA-256) and registers the public key that device
-- credentials are sealed to. The token is consumed; a revoked collector cannot enrol again.
CREATE FUNCTION tod_collector_enroll(p_token_hash bytea, p_public_key jsonb, p_version text)
  RETURNS TABLE (id uuid, tenant_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  UPDATE collectors c SET public_key = p_public_key, version = left(p_version, 100), status = 'online',
                          enrolled_at = now(), last_seen_at = now(),
                          enroll_token_hash = NULL, enroll_token_expires_at = NULL
  WHERE c.enroll_token_hash = p_token_hash AND c.enroll_token_expires_at > now() AND c.status <> 'revoked'
  RETURNING c.id, c.tenant_id
$$;

REVOKE EXECUTE ON FUNCTION tod_auth_user_by_email(text), tod_auth_user_by_id(uuid),
  tod_auth_bootstrap_admin(text), tod_auth_enroll(uuid, text, text, text, boolean),
  tod_auth_record_login(uuid), tod_api_key_authenticate(bytea),
  tod_invitation_accept(bytea, text, text, text, text), tod_collector_enroll(bytea, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tod_auth_user_by_email(text), tod_auth_user_by_id(uuid),
  tod_auth_bootstrap_admin(text), tod_auth_enroll(uuid, text, text, text, boolean),
  tod_auth_record_login(uuid), tod_api_key_authenticate(bytea),
  tod_invitation_accept(bytea, text, text, text, text), tod_collector_enroll(bytea, jsonb, text) TO tod_app;
