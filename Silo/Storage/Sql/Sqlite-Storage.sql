-- ManagedServers embedded mode: SQLite schema for Orleans' own ADO.NET grain storage provider
-- (AdoNetGrainStorage, invariant "System.Data.SQLite", which Orleans maps to Microsoft.Data.Sqlite).
--
-- Applied by SchemaSetup.EnsureSqliteAsync inside one IMMEDIATE transaction; every statement is
-- idempotent, so applying it again (or from two silos at once) is harmless.
--
-- Provider contract (Orleans 10.4.2):
--   * it reads QueryKey/QueryText from OrleansQuery for WriteToStorageKey, ReadFromStorageKey and
--     ClearStorageKey and DeleteStorageKey (DeleteStateOnClear is true: the provider clears with
--     DeleteStorageKey, so a cleared state leaves no row);
--   * parameters: @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
--     @GrainIdExtensionString (NULL for keys without extension), @ServiceId, @GrainStateVersion
--     (NULL when the grain holds no ETag) and @PayloadBinary (write only);
--   * read returns at most one row (PayloadBinary, Version);
--   * write and clear return exactly one row across all their result sets: the new version on
--     success, otherwise @GrainStateVersion (equal to the ETag) or NULL, which the provider turns
--     into an InconsistentStateException.
--
-- Rows are identified by their natural key (a UNIQUE constraint, which also drives the UPSERT);
-- the two hash columns are kept for information only. A NULL key extension is stored as ''.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId              TEXT    NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainIdExtensionString TEXT    NOT NULL DEFAULT '',
    GrainIdHash            INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    PayloadBinary          BLOB    NULL,
    Version                INTEGER NOT NULL,
    ModifiedOn             TEXT    NOT NULL,
    CONSTRAINT UQ_OrleansStorage_Key
        UNIQUE (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

-- Write: one UPSERT statement. A new record is inserted only when the grain has no ETag; an
-- existing record is updated only when its Version equals the grain's ETag. When nothing was
-- written, changes() is 0 and the second statement reports the grain's own (stale) version.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
    INSERT INTO OrleansStorage
        (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
         GrainIdHash, GrainTypeHash, PayloadBinary, Version, ModifiedOn)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''''),
           @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1, CURRENT_TIMESTAMP
    WHERE @GrainStateVersion IS NULL
       OR EXISTS (SELECT 1 FROM OrleansStorage
                  WHERE ServiceId = @ServiceId
                    AND GrainTypeString = @GrainTypeString
                    AND GrainIdN0 = @GrainIdN0
                    AND GrainIdN1 = @GrainIdN1
                    AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, ''''))
    ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString) DO UPDATE SET
        PayloadBinary = excluded.PayloadBinary,
        GrainIdHash = excluded.GrainIdHash,
        GrainTypeHash = excluded.GrainTypeHash,
        Version = OrleansStorage.Version + 1,
        ModifiedOn = excluded.ModifiedOn
    WHERE OrleansStorage.Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    SELECT @GrainStateVersion AS NewGrainStateVersion WHERE changes() = 0;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''');
');

-- Clear keeps the row (payload NULL, version bumped) so the version sequence never restarts.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
    UPDATE OrleansStorage
    SET PayloadBinary = NULL,
        Version = Version + 1,
        ModifiedOn = CURRENT_TIMESTAMP
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
      AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    SELECT @GrainStateVersion AS NewGrainStateVersion WHERE changes() = 0;
');

-- Delete (DeleteStateOnClear): removes the row when its Version equals the grain's ETag and returns a version the
-- grain did not hold (the provider then forgets the ETag, and the next write inserts). A stale activation holding an
-- older ETag can never re-insert: writes with an ETag only update an existing row.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
    DELETE FROM OrleansStorage
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
      AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;

    SELECT @GrainStateVersion AS NewGrainStateVersion WHERE changes() = 0;
');
