namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// The numbered configuration versions each service of a managed server applied (same grain and key as
/// <see cref="IManagedServerGrain"/>): what the agent reported live after a validated change, one history per service
/// (<c>dns</c>, <c>dhcp4</c>, …). A version is a change of the rendered configuration; a change that leaves it as it
/// was keeps the live number. The DNS routes (<c>/api/v1/servers/{id}/config-versions</c>) read the <c>dns</c> history.
/// </summary>
[Alias("ms.IServerConfigVersionsGrain")]
public interface IServerConfigVersionsGrain : IGrainWithStringKey
{
    /// <summary>The versions of <paramref name="service"/>, newest first (a bounded history); empty when it applied none.</summary>
    [ReadOnly]
    Task<ImmutableArray<ConfigVersionSummary>> ListServiceConfigVersionsAsync(string service);

    /// <summary>One version of <paramref name="service"/> with its rendered configuration and model, or null.</summary>
    [ReadOnly]
    Task<ConfigVersionRecord?> GetServiceConfigVersionAsync(string service, int number);
}

/// <summary>
/// One applied version: its number, when and by which job, the sha256 of its rendered configuration, whether it is
/// live, and how many things it serves (DNS: zones).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ConfigVersionSummary")]
public sealed record ConfigVersionSummary(
    [property: Id(0)] string Service,
    [property: Id(1)] int Number,
    [property: Id(2)] DateTimeOffset AppliedAt,
    [property: Id(3)] string JobId,
    [property: Id(4)] string Sha256,
    [property: Id(5)] bool Live,
    [property: Id(6)] int Items);

/// <summary>
/// One applied version in full: the configuration the agent rendered (knot.conf, a Kea JSON file) and the model it was
/// rendered from, as JSON whose shape the service defines (DNS: listen entries and zones with their serials).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ConfigVersionRecord")]
public sealed record ConfigVersionRecord(
    [property: Id(0)] ConfigVersionSummary Summary,
    [property: Id(1)] string Content,
    [property: Id(2)] string ModelJson);
