-- Configuration exports sealed on the collector (issue #8): each tenant has one P-256 key pair. The public half
-- goes to its collectors (enrolment and NATS credential renewal answers); they seal every `/export` text to it
-- (JWE ECDH-ES+A256KW / A256GCM) before it enters their outbox or the event stream, so a sensitive export is
-- never plain text outside the device and the edge. The private half is sealed with the tenant's data key
-- (envelope encryption, purpose 'export-key').
CREATE TABLE tenant_export_keys (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  public_jwk jsonb NOT NULL,
  private_jwk_enc bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenant_export_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_export_keys_isolation ON tenant_export_keys
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

GRANT SELECT, INSERT ON tenant_export_keys TO tod_app;
