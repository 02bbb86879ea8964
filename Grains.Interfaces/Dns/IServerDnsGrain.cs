namespace ManagedServers.Grains.Interfaces.Dns;

/// <summary>
/// The DNS side of a managed server (same grain and key as <see cref="Servers.IManagedServerGrain"/>): the zones
/// assigned to it, where its DNS service listens, the serial of each zone live on the server, and the numbered versions
/// of the configuration it applied. Pushes run as jobs (<see cref="Servers.IServerJobsGrain.StartJobAsync"/> with
/// <see cref="Servers.JobKinds.PushConfig"/>, <see cref="Servers.JobKinds.PushZones"/> or <see cref="Servers.JobKinds.RevertConfig"/>).
/// </summary>
[Alias("ms.IServerDnsGrain")]
public interface IServerDnsGrain : IGrainWithStringKey
{
    /// <summary>The server's DNS assignment and what is live. Throws <see cref="Servers.NotFoundException"/> for an unknown server.</summary>
    [ReadOnly]
    Task<ServerDnsSnapshot> GetDnsAsync();

    /// <summary>
    /// Assigns exactly these zones (lower case, no trailing dot; each must exist). Nothing reaches the
    /// server until a push. Throws <see cref="Servers.ConflictException"/> when the server is not a DNS server and
    /// <see cref="Servers.NotFoundException"/> naming the zones that do not exist.
    /// </summary>
    Task<ServerDnsSnapshot> SetZonesAsync(ImmutableArray<string> zones);

    /// <summary>
    /// Assigns one more zone (lower case, no trailing dot), keeping the others; assigning an assigned zone changes
    /// nothing. Nothing reaches the server until a push. Throws <see cref="Servers.ConflictException"/> when the server
    /// is not a DNS server and <see cref="Servers.NotFoundException"/> naming the zone when it does not exist.
    /// </summary>
    Task<ServerDnsSnapshot> AssignZoneAsync(string zone);

    /// <summary>
    /// Unassigns one zone, keeping the others (the next push stops serving it); unassigning a zone that is not assigned
    /// changes nothing. Throws <see cref="Servers.NotFoundException"/> naming the zone when it is neither assigned nor
    /// exists (a typo), and <see cref="Servers.ConflictException"/> when the server is not a DNS server.
    /// </summary>
    Task<ServerDnsSnapshot> UnassignZoneAsync(string zone);

    /// <summary>True when <paramref name="zone"/> is assigned to the server (an agent may fetch only its own zones).</summary>
    [ReadOnly]
    Task<bool> IsZoneAssignedAsync(string zone);

    /// <summary>
    /// One zone as this server serves it (<paramref name="serial"/>: the zone's serial now, which the caller knows), or
    /// null when it is not assigned here (or the server is gone).
    /// </summary>
    [ReadOnly]
    Task<ServerZone?> GetZoneAsync(string zone, long? serial);

    /// <summary>The configuration versions applied, newest first (a bounded history).</summary>
    [ReadOnly]
    Task<ImmutableArray<DnsConfigVersionSummary>> ListConfigVersionsAsync();

    /// <summary>One applied configuration version with its rendered knot.conf, or null.</summary>
    [ReadOnly]
    Task<DnsConfigVersion?> GetConfigVersionAsync(int number);
}

/// <summary>Bounds of a server's DNS side.</summary>
public static class ServerDnsLimits
{
    /// <summary>Zones one server may be assigned.</summary>
    public const int MaxZones = 10_000;
}

/// <summary>
/// A zone assigned to a server: its serial now (null: the zone was deleted), the serial live on the server (null: never
/// pushed) and when that was applied.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServerZone")]
public sealed record ServerZone(
    [property: Id(0)] string Name,
    [property: Id(1)] long? Serial,
    [property: Id(2)] long? AppliedSerial,
    [property: Id(3)] DateTimeOffset? AppliedAt);

/// <summary>
/// A server's DNS side: the zones assigned, the listen entries of its DNS service (empty: Knot's default, port 53 on all
/// addresses), and the configuration version live (null: nothing pushed yet).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServerDnsSnapshot")]
public sealed record ServerDnsSnapshot(
    [property: Id(0)] string ServerId,
    [property: Id(1)] ImmutableArray<ServerZone> Zones,
    [property: Id(2)] ImmutableArray<string> Listen,
    [property: Id(3)] int? LiveVersion);

/// <summary>One applied configuration version: when, by which job, how many zones, and the SHA-256 of its knot.conf.</summary>
[GenerateSerializer, Immutable, Alias("ms.DnsConfigVersionSummary")]
public sealed record DnsConfigVersionSummary(
    [property: Id(0)] int Number,
    [property: Id(1)] DateTimeOffset AppliedAt,
    [property: Id(2)] string JobId,
    [property: Id(3)] int ZoneCount,
    [property: Id(4)] string Sha256,
    [property: Id(5)] bool Live);

/// <summary>
/// One applied configuration version in full: the model (listen entries, zones with the serials applied) and the
/// knot.conf the agent rendered from it.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DnsConfigVersion")]
public sealed record DnsConfigVersion(
    [property: Id(0)] DnsConfigVersionSummary Summary,
    [property: Id(1)] ImmutableArray<string> Listen,
    [property: Id(2)] ImmutableArray<ServerZone> Zones,
    [property: Id(3)] string KnotConf);
