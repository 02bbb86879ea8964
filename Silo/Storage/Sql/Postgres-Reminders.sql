-- ManagedServers PostgreSQL mode: reminders for Orleans' ADO.NET reminder table.
--
-- Contract (Orleans 10.4.2 AdoNetReminderTable): ReadReminderRowsKey, ReadReminderRowKey,
-- ReadRangeRows1Key, ReadRangeRows2Key, UpsertReminderRowKey, DeleteReminderRowKey,
-- DeleteReminderRowsKey. Parameters: @ServiceId, @GrainId, @ReminderName, @StartTime,
-- @Period (milliseconds, int or bigint), @GrainHash / @BeginHash / @EndHash (the uint ring hash
-- cast to a signed int), @Version (the ETag as int). Rows are read as GrainId, ReminderName,
-- StartTime, Period, Version.
--
-- Range reads: Orleans picks ReadRangeRows1Key when (int)begin < (int)end (the range does not wrap
-- in signed order: begin < hash <= end) and ReadRangeRows2Key otherwise (hash > begin OR
-- hash <= end; begin = end is the full ring). Casting the whole ring to signed is a rotation, so
-- ring membership is preserved.
--
-- Versions come from one sequence, so an ETag is never reused after a delete + re-insert.

CREATE SEQUENCE IF NOT EXISTS orleansreminders_version_seq AS integer CYCLE;

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    text        NOT NULL,
    GrainId      text        NOT NULL,
    ReminderName text        NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint      NOT NULL,
    GrainHash    integer     NOT NULL,
    Version      integer     NOT NULL,
    CONSTRAINT pk_orleansreminderstable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS ix_orleansreminderstable_hash ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowsKey', $query$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowKey', $query$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows1Key', $query$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows2Key', $query$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpsertReminderRowKey', $query$
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash,
         nextval('orleansreminders_version_seq')::integer)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
        StartTime = excluded.StartTime,
        Period = excluded.Period,
        GrainHash = excluded.GrainHash,
        Version = nextval('orleansreminders_version_seq')::integer
    RETURNING r.Version;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowKey', $query$
    WITH deleted AS (
        DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName
          AND Version = @Version
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM deleted) AS Deleted;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowsKey', $query$
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
