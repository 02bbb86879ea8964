-- ManagedServers embedded mode: reminder table used by SqliteReminderTable (Orleans' ADO.NET
-- reminder provider has no SQLite support). Lives in the same SQLite file as grain state.
-- Idempotent; applied by SchemaSetup.EnsureSqliteAsync.
--
--   StartTime  UTC DateTime ticks
--   Period     TimeSpan ticks
--   GrainHash  GrainId.GetUniformHashCode() as an unsigned 32-bit value (0 .. 4294967295), so
--              ring-range reads compare in the same order as Orleans' uint ring
--   ETag       a fresh random token on every upsert (no ABA after delete + re-insert)

CREATE TABLE IF NOT EXISTS ManagedServersReminders
(
    ServiceId    TEXT    NOT NULL,
    GrainId      TEXT    NOT NULL,
    ReminderName TEXT    NOT NULL,
    StartTime    INTEGER NOT NULL,
    Period       INTEGER NOT NULL,
    GrainHash    INTEGER NOT NULL,
    ETag         TEXT    NOT NULL,
    CONSTRAINT PK_ManagedServersReminders PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS IX_ManagedServersReminders_Hash
    ON ManagedServersReminders (ServiceId, GrainHash);
