-- Live pipeline storage: what the TenantHub writes from the collectors' events. Device status on the device
-- row, an event-id ledger that makes redelivery idempotent, raw time series partitioned by day (created ahead
-- by tod_ensure_metric_partitions, dropped after the retention by tod_drop_expired_metric_partitions), and
-- 5-minute and hourly rollups maintained by tod_rollup_metrics from a queue of dirty 5-minute buckets.

-- When the status on the row was observed: an older status replayed late never overwrites a newer one.
ALTER TABLE devices ADD COLUMN status_at timestamptz;

-- Every stored event once: (tenant, id) is the collector's Nats-Msg-Id, `at` its observation time (the
-- partition key, identical on every redelivery of one event).
CREATE TABLE ingested_events (
  tenant_id uuid NOT NULL,
  id text NOT NULL,
  at timestamptz NOT NULL,
  device_id uuid NOT NULL,
  collector_id uuid NOT NULL,
  kind text NOT NULL,
  stream_seq bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id, at)
) PARTITION BY RANGE (at);

CREATE TABLE metric_resource (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  time timestamptz NOT NULL,
  cpu_load real NOT NULL,
  free_memory bigint NOT NULL,
  total_memory bigint NOT NULL,
  free_hdd bigint NOT NULL,
  total_hdd bigint NOT NULL,
  uptime_seconds bigint NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX metric_resource_device_idx ON metric_resource (tenant_id, device_id, time);

CREATE TABLE metric_interfaces (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  time timestamptz NOT NULL,
  interface text NOT NULL,
  running boolean NOT NULL,
  rx_bytes bigint NOT NULL,
  tx_bytes bigint NOT NULL,
  rx_bps double precision,
  tx_bps double precision
) PARTITION BY RANGE (time);
CREATE INDEX metric_interfaces_device_idx ON metric_interfaces (tenant_id, device_id, interface, time);

CREATE TABLE metric_health (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  time timestamptz NOT NULL,
  voltage double precision,
  temperature_c double precision,
  cpu_temperature_c double precision
) PARTITION BY RANGE (time);
CREATE INDEX metric_health_device_idx ON metric_health (tenant_id, device_id, time);

CREATE TABLE metric_wireless (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  time timestamptz NOT NULL,
  interface text NOT NULL,
  client_mac text NOT NULL,
  signal_dbm real,
  tx_rate_mbps real,
  rx_rate_mbps real
) PARTITION BY RANGE (time);
CREATE INDEX metric_wireless_device_idx ON metric_wireless (tenant_id, device_id, client_mac, time);

-- 5-minute buckets written since the last rollup (queued in the same transaction as the samples).
CREATE TABLE metric_rollup_pending (
  tenant_id uuid NOT NULL,
  bucket timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, bucket)
);

-- Rollups: one table per kind and resolution ('5m', '1h'), same columns.
CREATE TABLE metric_resource_rollup (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('5m', '1h')),
  bucket timestamptz NOT NULL,
  samples integer NOT NULL,
  cpu_avg real NOT NULL,
  cpu_max real NOT NULL,
  free_memory_avg double precision NOT NULL,
  total_memory bigint NOT NULL,
  free_hdd_avg double precision NOT NULL,
  total_hdd bigint NOT NULL,
  uptime_max bigint NOT NULL,
  PRIMARY KEY (tenant_id, device_id, resolution, bucket)
);

CREATE TABLE metric_interfaces_rollup (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  interface text NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('5m', '1h')),
  bucket timestamptz NOT NULL,
  samples integer NOT NULL,
  rx_bps_avg double precision,
  rx_bps_max double precision,
  tx_bps_avg double precision,
  tx_bps_max double precision,
  PRIMARY KEY (tenant_id, device_id, interface, resolution, bucket)
);

CREATE TABLE metric_health_rollup (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('5m', '1h')),
  bucket timestamptz NOT NULL,
  samples integer NOT NULL,
  voltage_avg double precision,
  temperature_avg double precision,
  temperature_max double precision,
  cpu_temperature_avg double precision,
  cpu_temperature_max double precision,
  PRIMARY KEY (tenant_id, device_id, resolution, bucket)
);

CREATE TABLE metric_wireless_rollup (
  tenant_id uuid NOT NULL,
  device_id uuid NOT NULL,
  client_mac text NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('5m', '1h')),
  bucket timestamptz NOT NULL,
  interface text NOT NULL,
  samples integer NOT NULL,
  signal_avg real,
  signal_min real,
  signal_max real,
  tx_rate_avg real,
  rx_rate_avg real,
  PRIMARY KEY (tenant_id, device_id, client_mac, resolution, bucket)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ingested_events', 'metric_resource', 'metric_interfaces', 'metric_health',
                           'metric_wireless', 'metric_rollup_pending', 'metric_resource_rollup',
                           'metric_interfaces_rollup', 'metric_health_rollup', 'metric_wireless_rollup']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I USING (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant())) '
      'WITH CHECK (tenant_id = tod_current_tenant() OR (SELECT tod_cross_tenant()))',
      t || '_isolation', t);
  END LOOP;
END $$;

-- The partitioned tables, in one place for the maintenance functions.
CREATE FUNCTION tod_partitioned_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['ingested_events', 'metric_resource', 'metric_interfaces', 'metric_health',
                   'metric_wireless'] $$;

-- Creates the daily partitions for [from_day, to_day] that are missing. SECURITY DEFINER: the application
-- role cannot create tables; the range is bounded so a caller cannot create thousands. Partitions get RLS
-- enabled with no policy and no grants: they are reached only through their (policed) parent.
CREATE FUNCTION tod_ensure_metric_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  d date;
  t text;
  part text;
  created integer := 0;
BEGIN
  IF from_day IS NULL OR to_day IS NULL OR to_day < from_day THEN
    RAISE EXCEPTION 'invalid partition range' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF from_day < current_date - 3660 OR to_day > current_date + 31 OR to_day - from_day > 62 THEN
    RAISE EXCEPTION 'partition range out of bounds' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One creator at a time (every hub calls this); others wait and then find the partitions there.
  PERFORM pg_advisory_xact_lock(7150918);
  d := from_day;
  WHILE d <= to_day LOOP
    FOREACH t IN ARRAY tod_partitioned_tables() LOOP
      part := t || '_p' || to_char(d, 'YYYYMMDD');
      IF to_regclass(part) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
          part, t, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
        created := created + 1;
      END IF;
    END LOOP;
    d := d + 1;
  END LOOP;
  RETURN created;
END $$;

-- Drops the daily partitions that end before today - retention_days (raw samples and the event ledger) and
-- rollups past their own retention. Returns the number of partitions dropped.
CREATE FUNCTION tod_drop_expired_metric_partitions(retention_days integer, rollup_retention_days integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  r record;
  cutoff date;
  dropped integer := 0;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 OR rollup_retention_days IS NULL
     OR rollup_retention_days < retention_days THEN
    RAISE EXCEPTION 'invalid retention' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  cutoff := (now() AT TIME ZONE 'UTC')::date - retention_days;
  PERFORM pg_advisory_xact_lock(7150918);
  FOR r IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ANY (tod_partitioned_tables())
      AND c.relname ~ '_p[0-9]{8}$'
      AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
  LOOP
    EXECUTE format('DROP TABLE %I', r.relname);
    dropped := dropped + 1;
  END LOOP;
  DELETE FROM metric_resource_rollup
    WHERE bucket < now() - make_interval(days => CASE resolution WHEN '5m' THEN retention_days ELSE rollup_retention_days END);
  DELETE FROM metric_interfaces_rollup
    WHERE bucket < now() - make_interval(days => CASE resolution WHEN '5m' THEN retention_days ELSE rollup_retention_days END);
  DELETE FROM metric_health_rollup
    WHERE bucket < now() - make_interval(days => CASE resolution WHEN '5m' THEN retention_days ELSE rollup_retention_days END);
  DELETE FROM metric_wireless_rollup
    WHERE bucket < now() - make_interval(days => CASE resolution WHEN '5m' THEN retention_days ELSE rollup_retention_days END);
  RETURN dropped;
END $$;

-- Recomputes the 5-minute rollups of the current tenant's dirty buckets from the raw samples, then the hourly
-- rollups of the hours they fall in from the 5-minute rows. Runs as the caller (RLS applies): the TenantHub
-- calls it in its tenant's transaction. Returns the number of 5-minute buckets processed.
CREATE FUNCTION tod_rollup_metrics() RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  buckets timestamptz[];
  hours timestamptz[];
BEGIN
  WITH done AS (
    DELETE FROM metric_rollup_pending WHERE tenant_id = tod_current_tenant() RETURNING bucket
  )
  SELECT array_agg(bucket) INTO buckets FROM done;
  IF buckets IS NULL THEN
    RETURN 0;
  END IF;
  SELECT array_agg(DISTINCT date_bin('1 hour', b, timestamptz 'epoch')) INTO hours FROM unnest(buckets) b;

  INSERT INTO metric_resource_rollup AS r
    (tenant_id, device_id, resolution, bucket, samples, cpu_avg, cpu_max, free_memory_avg, total_memory,
     free_hdd_avg, total_hdd, uptime_max)
  SELECT tenant_id, device_id, '5m', date_bin('5 minutes', time, timestamptz 'epoch') AS b, count(*),
         avg(cpu_load), max(cpu_load), avg(free_memory), max(total_memory), avg(free_hdd), max(total_hdd),
         max(uptime_seconds)
  FROM metric_resource m, unnest(buckets) AS x(bk)
  WHERE m.tenant_id = tod_current_tenant() AND m.time >= x.bk AND m.time < x.bk + interval '5 minutes'
  GROUP BY tenant_id, device_id, b
  ON CONFLICT (tenant_id, device_id, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, cpu_avg = excluded.cpu_avg, cpu_max = excluded.cpu_max,
    free_memory_avg = excluded.free_memory_avg, total_memory = excluded.total_memory,
    free_hdd_avg = excluded.free_hdd_avg, total_hdd = excluded.total_hdd, uptime_max = excluded.uptime_max;

  INSERT INTO metric_interfaces_rollup AS r
    (tenant_id, device_id, interface, resolution, bucket, samples, rx_bps_avg, rx_bps_max, tx_bps_avg,
     tx_bps_max)
  SELECT tenant_id, device_id, interface, '5m', date_bin('5 minutes', time, timestamptz 'epoch') AS b,
         count(*), avg(rx_bps), max(rx_bps), avg(tx_bps), max(tx_bps)
  FROM metric_interfaces m, unnest(buckets) AS x(bk)
  WHERE m.tenant_id = tod_current_tenant() AND m.time >= x.bk AND m.time < x.bk + interval '5 minutes'
  GROUP BY tenant_id, device_id, interface, b
  ON CONFLICT (tenant_id, device_id, interface, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, rx_bps_avg = excluded.rx_bps_avg, rx_bps_max = excluded.rx_bps_max,
    tx_bps_avg = excluded.tx_bps_avg, tx_bps_max = excluded.tx_bps_max;

  INSERT INTO metric_health_rollup AS r
    (tenant_id, device_id, resolution, bucket, samples, voltage_avg, temperature_avg, temperature_max,
     cpu_temperature_avg, cpu_temperature_max)
  SELECT tenant_id, device_id, '5m', date_bin('5 minutes', time, timestamptz 'epoch') AS b, count(*),
         avg(voltage), avg(temperature_c), max(temperature_c), avg(cpu_temperature_c), max(cpu_temperature_c)
  FROM metric_health m, unnest(buckets) AS x(bk)
  WHERE m.tenant_id = tod_current_tenant() AND m.time >= x.bk AND m.time < x.bk + interval '5 minutes'
  GROUP BY tenant_id, device_id, b
  ON CONFLICT (tenant_id, device_id, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, voltage_avg = excluded.voltage_avg, temperature_avg = excluded.temperature_avg,
    temperature_max = excluded.temperature_max, cpu_temperature_avg = excluded.cpu_temperature_avg,
    cpu_temperature_max = excluded.cpu_temperature_max;

  INSERT INTO metric_wireless_rollup AS r
    (tenant_id, device_id, client_mac, resolution, bucket, interface, samples, signal_avg, signal_min,
     signal_max, tx_rate_avg, rx_rate_avg)
  SELECT tenant_id, device_id, client_mac, '5m', date_bin('5 minutes', time, timestamptz 'epoch') AS b,
         max(interface), count(*), avg(signal_dbm), min(signal_dbm), max(signal_dbm), avg(tx_rate_mbps),
         avg(rx_rate_mbps)
  FROM metric_wireless m, unnest(buckets) AS x(bk)
  WHERE m.tenant_id = tod_current_tenant() AND m.time >= x.bk AND m.time < x.bk + interval '5 minutes'
  GROUP BY tenant_id, device_id, client_mac, b
  ON CONFLICT (tenant_id, device_id, client_mac, resolution, bucket) DO UPDATE SET
    interface = excluded.interface, samples = excluded.samples, signal_avg = excluded.signal_avg,
    signal_min = excluded.signal_min, signal_max = excluded.signal_max, tx_rate_avg = excluded.tx_rate_avg,
    rx_rate_avg = excluded.rx_rate_avg;

  -- Hourly rows from the 5-minute rows, weighted by their sample counts.
  INSERT INTO metric_resource_rollup
    (tenant_id, device_id, resolution, bucket, samples, cpu_avg, cpu_max, free_memory_avg, total_memory,
     free_hdd_avg, total_hdd, uptime_max)
  SELECT tenant_id, device_id, '1h', date_bin('1 hour', bucket, timestamptz 'epoch') AS h, sum(samples),
         sum(cpu_avg * samples) / sum(samples), max(cpu_max), sum(free_memory_avg * samples) / sum(samples),
         max(total_memory), sum(free_hdd_avg * samples) / sum(samples), max(total_hdd), max(uptime_max)
  FROM metric_resource_rollup
  WHERE tenant_id = tod_current_tenant() AND resolution = '5m'
    AND date_bin('1 hour', bucket, timestamptz 'epoch') = ANY (hours)
  GROUP BY tenant_id, device_id, h
  ON CONFLICT (tenant_id, device_id, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, cpu_avg = excluded.cpu_avg, cpu_max = excluded.cpu_max,
    free_memory_avg = excluded.free_memory_avg, total_memory = excluded.total_memory,
    free_hdd_avg = excluded.free_hdd_avg, total_hdd = excluded.total_hdd, uptime_max = excluded.uptime_max;

  INSERT INTO metric_interfaces_rollup
    (tenant_id, device_id, interface, resolution, bucket, samples, rx_bps_avg, rx_bps_max, tx_bps_avg,
     tx_bps_max)
  SELECT tenant_id, device_id, interface, '1h', date_bin('1 hour', bucket, timestamptz 'epoch') AS h,
         sum(samples), sum(rx_bps_avg * samples) / sum(samples), max(rx_bps_max),
         sum(tx_bps_avg * samples) / sum(samples), max(tx_bps_max)
  FROM metric_interfaces_rollup
  WHERE tenant_id = tod_current_tenant() AND resolution = '5m'
    AND date_bin('1 hour', bucket, timestamptz 'epoch') = ANY (hours)
  GROUP BY tenant_id, device_id, interface, h
  ON CONFLICT (tenant_id, device_id, interface, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, rx_bps_avg = excluded.rx_bps_avg, rx_bps_max = excluded.rx_bps_max,
    tx_bps_avg = excluded.tx_bps_avg, tx_bps_max = excluded.tx_bps_max;

  INSERT INTO metric_health_rollup
    (tenant_id, device_id, resolution, bucket, samples, voltage_avg, temperature_avg, temperature_max,
     cpu_temperature_avg, cpu_temperature_max)
  SELECT tenant_id, device_id, '1h', date_bin('1 hour', bucket, timestamptz 'epoch') AS h, sum(samples),
         sum(voltage_avg * samples) / sum(samples), sum(temperature_avg * samples) / sum(samples),
         max(temperature_max), sum(cpu_temperature_avg * samples) / sum(samples), max(cpu_temperature_max)
  FROM metric_health_rollup
  WHERE tenant_id = tod_current_tenant() AND resolution = '5m'
    AND date_bin('1 hour', bucket, timestamptz 'epoch') = ANY (hours)
  GROUP BY tenant_id, device_id, h
  ON CONFLICT (tenant_id, device_id, resolution, bucket) DO UPDATE SET
    samples = excluded.samples, voltage_avg = excluded.voltage_avg, temperature_avg = excluded.temperature_avg,
    temperature_max = excluded.temperature_max, cpu_temperature_avg = excluded.cpu_temperature_avg,
    cpu_temperature_max = excluded.cpu_temperature_max;

  INSERT INTO metric_wireless_rollup
    (tenant_id, device_id, client_mac, resolution, bucket, interface, samples, signal_avg, signal_min,
     signal_max, tx_rate_avg, rx_rate_avg)
  SELECT tenant_id, device_id, client_mac, '1h', date_bin('1 hour', bucket, timestamptz 'epoch') AS h,
         max(interface), sum(samples), sum(signal_avg * samples) / sum(samples), min(signal_min),
         max(signal_max), sum(tx_rate_avg * samples) / sum(samples), sum(rx_rate_avg * samples) / sum(samples)
  FROM metric_wireless_rollup
  WHERE tenant_id = tod_current_tenant() AND resolution = '5m'
    AND date_bin('1 hour', bucket, timestamptz 'epoch') = ANY (hours)
  GROUP BY tenant_id, device_id, client_mac, h
  ON CONFLICT (tenant_id, device_id, client_mac, resolution, bucket) DO UPDATE SET
    interface = excluded.interface, samples = excluded.samples, signal_avg = excluded.signal_avg,
    signal_min = excluded.signal_min, signal_max = excluded.signal_max, tx_rate_avg = excluded.tx_rate_avg,
    rx_rate_avg = excluded.rx_rate_avg;

  RETURN array_length(buckets, 1);
END $$;

-- Today's partitions and the next few days', so a fresh database accepts samples at once.
SELECT tod_ensure_metric_partitions(current_date - 1, current_date + 3);

GRANT SELECT, INSERT ON ingested_events, metric_resource, metric_interfaces, metric_health, metric_wireless
  TO tod_app;
GRANT SELECT, INSERT, DELETE ON metric_rollup_pending TO tod_app;
GRANT SELECT, INSERT, UPDATE ON metric_resource_rollup, metric_interfaces_rollup, metric_health_rollup,
  metric_wireless_rollup TO tod_app;
REVOKE EXECUTE ON FUNCTION tod_ensure_metric_partitions(date, date),
  tod_drop_expired_metric_partitions(integer, integer), tod_rollup_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tod_ensure_metric_partitions(date, date),
  tod_drop_expired_metric_partitions(integer, integer), tod_rollup_metrics(), tod_partitioned_tables()
  TO tod_app;
