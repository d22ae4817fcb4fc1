-- The alert engine's hysteresis state per device (rule keys: firing, breaches and clears so far, and the time
-- of the newest event applied per kind), written in the TenantHub's batch transaction together with the alerts
-- it explains. A hub that restarts without its Durable Object storage reads it back, so a breach that goes on
-- across the restart neither fires a second alert nor starts counting again. Rows exist only while a device
-- has something to remember (a run of breaches or an alert firing).
CREATE TABLE alert_engine_state (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  device_id uuid NOT NULL,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, device_id),
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE alert_engine_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_engine_state_isolation ON alert_engine_state
  USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))
  WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()));

GRANT SELECT, INSERT, UPDATE, DELETE ON alert_engine_state TO tod_app;

-- The tenants whose TenantHub the edge's cron wakes (those with an enrolled collector that is not revoked):
-- ids only, without a cross-tenant session (which would write an audit entry every minute).
CREATE FUNCTION tod_hub_tenants() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT DISTINCT tenant_id FROM collectors WHERE status <> 'revoked' AND enrolled_at IS NOT NULL $$;
REVOKE EXECUTE ON FUNCTION tod_hub_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tod_hub_tenants() TO tod_app;
