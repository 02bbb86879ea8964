-- ManagedServers monitoring data (embedded mode). Raw samples are append-only with one row per
-- (server, sample time), so a sample delivered twice is stored once; aggregates hold one row per
-- (server, resolution in seconds, bucket start) and are replaced on recompute. Times are Unix ms.
-- Payloads are compact JSON (MetricsCodec). Idempotent; applied by SchemaSetup.

CREATE TABLE IF NOT EXISTS ms_metric_raw
(
    server_id TEXT    NOT NULL,
    ts        INTEGER NOT NULL,
    payload   BLOB    NOT NULL,
    PRIMARY KEY (server_id, ts)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ms_metric_agg
(
    server_id TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    samples   INTEGER NOT NULL,
    payload   BLOB    NOT NULL,
    PRIMARY KEY (server_id, step, bucket)
) WITHOUT ROWID;
