-- ManagedServers monitoring data (PostgreSQL mode). Raw samples are append-only with one row per
-- (server, sample time), so a sample delivered twice is stored once; aggregates hold one row per
-- (server, resolution in seconds, bucket start) and are replaced on recompute. Times are Unix ms.
-- Payloads are compact JSON bytes (MetricsCodec). Idempotent; applied by SchemaSetup.

CREATE TABLE IF NOT EXISTS ms_metric_raw
(
    server_id text   NOT NULL,
    ts        bigint NOT NULL,
    payload   bytea  NOT NULL,
    CONSTRAINT pk_ms_metric_raw PRIMARY KEY (server_id, ts)
);

CREATE TABLE IF NOT EXISTS ms_metric_agg
(
    server_id text    NOT NULL,
    step      integer NOT NULL,
    bucket    bigint  NOT NULL,
    samples   integer NOT NULL,
    payload   bytea   NOT NULL,
    CONSTRAINT pk_ms_metric_agg PRIMARY KEY (server_id, step, bucket)
);
