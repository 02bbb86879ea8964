-- ManagedServers PostgreSQL mode: shared table read by Orleans' ADO.NET providers (invariant "Npgsql").
-- The Orleans NuGet packages (10.4.2) do not ship their SQL scripts, so these scripts are ours,
-- written against the provider contract. Applied by SchemaSetup.EnsurePostgresAsync in one
-- transaction under an advisory lock; every statement is idempotent.
--
-- Query texts are dollar-quoted; @Name placeholders are bound by Npgsql when Orleans runs them.
-- Unquoted identifiers fold to lower case; Orleans reads columns by name and Npgsql falls back to
-- a case-insensitive match, so "Version" finds "version".

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT pk_orleansquery PRIMARY KEY (QueryKey)
);
