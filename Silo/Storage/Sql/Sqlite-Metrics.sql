-- ManagedServers monitoring data (embedded mode). Raw samples are append-only with one row per
-- (server, sample time), so a sample delivered twice is stored once; aggregates hold one row per
-- (server, resolution in seconds, bucket start) and are replaced on recompute. Times are Unix ms.
-- Payloads are compact JSON (MetricsCodec). Idempotent; applied by SchemaSetup.
-- Rowid tables on purpose: a WITHOUT ROWID row keeps only about 1 KB in its page and a sample (~1.2 KB)
-- would spill into an overflow page of its own (measured: 4.7 KB on disk per sample instead of ~1.3 KB).

CREATE TABLE IF NOT EXISTS ms_metric_raw
(
    server_id TEXT    NOT NULL,
    ts        INTEGER NOT NULL,
    payload   BLOB    NOT NULL,
    PRIMARY KEY (server_id, ts)
);

CREATE TABLE IF NOT EXISTS ms_metric_agg
(
    server_id TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    samples   INTEGER NOT NULL,
    payload   BLOB    NOT NULL,
    PRIMARY KEY (server_id, step, bucket)
);
