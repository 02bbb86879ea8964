-- ManagedServers PostgreSQL mode: grain state for Orleans' ADO.NET grain storage provider.
--
-- Contract (Orleans 10.4.2 AdoNetGrainStorage): WriteToStorageKey, ReadFromStorageKey and
-- ClearStorageKey and DeleteStorageKey (DeleteStateOnClear is true: a cleared state leaves no row). Parameters: @GrainIdHash,
-- @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString (NULL when the
-- key has no extension), @ServiceId, @GrainStateVersion (NULL when the grain has no ETag),
-- @PayloadBinary. Write and clear return exactly one row: the new version, or the grain's own
-- version / NULL when the optimistic-concurrency check failed (the provider then throws
-- InconsistentStateException).
--
-- Rows are identified by their natural key. The long text parts are indexed through md5() so the
-- unique index never hits the btree row-size limit; the hash columns are informational only.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId              text        NOT NULL,
    GrainTypeString        text        NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainIdExtensionString text        NOT NULL DEFAULT '',
    GrainIdHash            integer     NOT NULL,
    GrainTypeHash          integer     NOT NULL,
    PayloadBinary          bytea       NULL,
    Version                integer     NOT NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS ux_orleansstorage_key ON OrleansStorage
    (ServiceId, GrainIdN0, GrainIdN1, md5(GrainTypeString), md5(GrainIdExtensionString));

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $query$
    WITH written AS (
        INSERT INTO OrleansStorage AS s
            (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
             GrainIdHash, GrainTypeHash, PayloadBinary, Version, ModifiedOn)
        SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''),
               @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1, now()
        WHERE @GrainStateVersion IS NULL
           OR EXISTS (SELECT 1 FROM OrleansStorage e
                      WHERE e.ServiceId = @ServiceId
                        AND e.GrainIdN0 = @GrainIdN0
                        AND e.GrainIdN1 = @GrainIdN1
                        AND md5(e.GrainTypeString) = md5(@GrainTypeString)
                        AND md5(e.GrainIdExtensionString) = md5(COALESCE(@GrainIdExtensionString, ''))
                        AND e.GrainTypeString = @GrainTypeString
                        AND e.GrainIdExtensionString = COALESCE(@GrainIdExtensionString, ''))
        ON CONFLICT (ServiceId, GrainIdN0, GrainIdN1, (md5(GrainTypeString)), (md5(GrainIdExtensionString)))
        DO UPDATE SET
            PayloadBinary = excluded.PayloadBinary,
            GrainIdHash = excluded.GrainIdHash,
            GrainTypeHash = excluded.GrainTypeHash,
            Version = s.Version + 1,
            ModifiedOn = now()
        WHERE s.Version = @GrainStateVersion
        RETURNING s.Version
    )
    SELECT Version AS NewGrainStateVersion FROM written
    UNION ALL
    SELECT @GrainStateVersion WHERE NOT EXISTS (SELECT 1 FROM written);
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $query$
    SELECT s.PayloadBinary, s.Version
    FROM OrleansStorage s
    WHERE s.ServiceId = @ServiceId
      AND s.GrainIdN0 = @GrainIdN0
      AND s.GrainIdN1 = @GrainIdN1
      AND md5(s.GrainTypeString) = md5(@GrainTypeString)
      AND md5(s.GrainIdExtensionString) = md5(COALESCE(@GrainIdExtensionString, ''))
      AND s.GrainTypeString = @GrainTypeString
      AND s.GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '');
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Clear keeps the row (payload NULL, version bumped) so the version sequence never restarts.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $query$
    WITH cleared AS (
        UPDATE OrleansStorage s
        SET PayloadBinary = NULL,
            Version = s.Version + 1,
            ModifiedOn = now()
        WHERE s.ServiceId = @ServiceId
          AND s.GrainIdN0 = @GrainIdN0
          AND s.GrainIdN1 = @GrainIdN1
          AND md5(s.GrainTypeString) = md5(@GrainTypeString)
          AND md5(s.GrainIdExtensionString) = md5(COALESCE(@GrainIdExtensionString, ''))
          AND s.GrainTypeString = @GrainTypeString
          AND s.GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
          AND s.Version = @GrainStateVersion
        RETURNING s.Version
    )
    SELECT Version AS NewGrainStateVersion FROM cleared
    UNION ALL
    SELECT @GrainStateVersion WHERE NOT EXISTS (SELECT 1 FROM cleared);
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Delete (DeleteStateOnClear): removes the row when its Version equals the grain's ETag and returns a version the
-- grain did not hold (the provider then forgets the ETag, and the next write inserts). A stale activation holding an
-- older ETag can never re-insert: writes with an ETag only update an existing row.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $query$
    WITH deleted AS (
        DELETE FROM OrleansStorage s
        WHERE s.ServiceId = @ServiceId
          AND s.GrainIdN0 = @GrainIdN0
          AND s.GrainIdN1 = @GrainIdN1
          AND md5(s.GrainTypeString) = md5(@GrainTypeString)
          AND md5(s.GrainIdExtensionString) = md5(COALESCE(@GrainIdExtensionString, ''))
          AND s.GrainTypeString = @GrainTypeString
          AND s.GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
          AND s.Version = @GrainStateVersion
        RETURNING s.Version + 1 AS Version
    )
    SELECT Version AS NewGrainStateVersion FROM deleted
    UNION ALL
    SELECT @GrainStateVersion WHERE NOT EXISTS (SELECT 1 FROM deleted);
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
