-- ManagedServers PostgreSQL mode: membership for Orleans' ADO.NET clustering provider.
--
-- Contract (Orleans 10.4.2 AdoNetClusteringTable / AdoNetGatewayListProvider): UpdateIAmAlivetimeKey,
-- InsertMembershipVersionKey, InsertMembershipKey, UpdateMembershipKey, MembershipReadRowKey,
-- MembershipReadAllKey, DeleteMembershipTableEntriesKey, GatewaysQueryKey,
-- CleanupDefunctSiloEntriesKey (the optional CleanupDefunctSiloEntryKey is not provided, so the
-- provider uses the bulk cleanup). @DeploymentId is the cluster id; @Version is the table version
-- the caller read (its ETag); the insert/update/version queries return one boolean-ish column.
--
-- Insert and update are single statements: the version row is locked (FOR UPDATE re-checks the
-- version after waiting for a concurrent writer), the member row is written only while the
-- version matches, and the version is bumped only when the member row was written. Nothing is
-- changed when the call reports failure.

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId text        NOT NULL,
    Timestamp    timestamptz NOT NULL DEFAULT now(),
    Version      integer     NOT NULL DEFAULT 0,
    CONSTRAINT pk_orleansmembershipversiontable PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId text        NOT NULL,
    Address      text        NOT NULL,
    Port         integer     NOT NULL,
    Generation   integer     NOT NULL,
    SiloName     text        NOT NULL,
    HostName     text        NOT NULL,
    Status       integer     NOT NULL,
    ProxyPort    integer     NOT NULL DEFAULT 0,
    SuspectTimes text        NULL,
    StartTime    timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,
    CONSTRAINT pk_orleansmembershiptable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT fk_orleansmembershiptable_version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateIAmAlivetimeKey', $query$
    UPDATE OrleansMembershipTable
    SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address AND Port = @Port AND Generation = @Generation;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipVersionKey', $query$
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM inserted) AS Inserted;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipKey', $query$
    WITH expected AS (
        SELECT DeploymentId
        FROM OrleansMembershipVersionTable
        WHERE DeploymentId = @DeploymentId AND Version = @Version
        FOR UPDATE
    ), inserted AS (
        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
             StartTime, IAmAliveTime)
        SELECT DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
               @StartTime, @IAmAliveTime
        FROM expected
        ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING
        RETURNING DeploymentId
    ), bumped AS (
        UPDATE OrleansMembershipVersionTable
        SET Version = Version + 1, Timestamp = now()
        WHERE DeploymentId IN (SELECT DeploymentId FROM inserted)
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM bumped) AS Inserted;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateMembershipKey', $query$
    WITH expected AS (
        SELECT DeploymentId
        FROM OrleansMembershipVersionTable
        WHERE DeploymentId = @DeploymentId AND Version = @Version
        FOR UPDATE
    ), updated AS (
        UPDATE OrleansMembershipTable m
        SET Status = @Status,
            SuspectTimes = @SuspectTimes,
            IAmAliveTime = @IAmAliveTime
        FROM expected
        WHERE m.DeploymentId = expected.DeploymentId
          AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
        RETURNING m.DeploymentId
    ), bumped AS (
        UPDATE OrleansMembershipVersionTable
        SET Version = Version + 1, Timestamp = now()
        WHERE DeploymentId IN (SELECT DeploymentId FROM updated)
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM bumped) AS Updated;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The version row is always returned (LEFT JOIN), also when the silo has no member row yet.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadRowKey', $query$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m
           ON m.DeploymentId = v.DeploymentId
          AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadAllKey', $query$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteMembershipTableEntriesKey', $query$
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GatewaysQueryKey', $query$
    SELECT Address, ProxyPort, Generation
    FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Removes rows of silos that are not active (3 = SiloStatus.Active) and stopped heart-beating
-- before the cut-off.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntriesKey', $query$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;
$query$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
