using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Dhcp;

/// <summary>
/// The DHCP configuration of a managed server (same grain and key as <see cref="IManagedServerGrain"/>): one per family,
/// kept by the server (a pair of HA peers will share one). Pushed with a <c>dhcp.push</c> job
/// (<see cref="DhcpPushSpec"/>) after review.
/// </summary>
[Alias("ms.IServerDhcpGrain")]
public interface IServerDhcpGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces the server's configuration of the document's family by an imported Kea document (<c>{"Dhcp4": …}</c>
    /// or <c>{"Dhcp6": …}</c>, comments as Kea allows). Throws <see cref="DhcpConfigException"/> naming what is wrong
    /// and where (nothing changes), <see cref="NotFoundException"/> for an unknown server.
    /// </summary>
    Task<DhcpImportSummary> ImportAsync(string document);

    /// <summary>
    /// Changes one object of the server's configuration of <paramref name="family"/> (a configuration is started, with
    /// the hooks leases and statistics need, when the server has none) and returns the configuration as changed. An edit
    /// that would add a review error is refused: <see cref="DhcpConfigException"/> naming the object, or
    /// <see cref="NotFoundException"/>/<see cref="ConflictException"/>; nothing changes. <paramref name="dryRun"/>: check
    /// only (a change to several servers checks every one before changing any).
    /// </summary>
    Task<DhcpConfig> EditAsync(DhcpFamily family, DhcpEdit edit, bool dryRun = false);

    /// <summary>The other peers' server ids when the configuration of <paramref name="family"/> is in an HA pair (empty otherwise).</summary>
    [ReadOnly]
    Task<ImmutableArray<string>> GetHaPartnersAsync(DhcpFamily family);

    /// <summary>The server's configuration of <paramref name="family"/>, or null when it has none.</summary>
    [ReadOnly]
    Task<DhcpConfig?> GetConfigAsync(DhcpFamily family);

    /// <summary>The Kea document a push would send now, byte for byte, or null when there is no configuration of <paramref name="family"/>.</summary>
    [ReadOnly]
    Task<string?> RenderAsync(DhcpFamily family);

    /// <summary>What the review says of the configuration of <paramref name="family"/> (empty when there is none).</summary>
    [ReadOnly]
    Task<ImmutableArray<DhcpFinding>> ReviewAsync(DhcpFamily family);

    /// <summary>What a push of <paramref name="family"/> needs to know before it is planned (null for an unknown server).</summary>
    [ReadOnly]
    Task<DhcpPushCheck?> CheckPushAsync(DhcpFamily family);
}

/// <summary>
/// A server about to be pushed: its name, whether it is a DHCP server with the family's service and a configuration, the
/// review's findings, and the HA pair its configuration names.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPushCheck")]
public sealed record DhcpPushCheck(
    [property: Id(0)] string Name,
    [property: Id(1)] bool IsDhcp,
    [property: Id(2)] bool HasService,
    [property: Id(3)] bool HasConfig,
    [property: Id(4)] ImmutableArray<DhcpFinding> Findings,
    [property: Id(5)] DhcpHa? Ha);

/// <summary>
/// What an import made of a Kea document: counts of the objects it modelled, the JSON paths of every member kept
/// verbatim (rendered back unchanged), notes on what it decided (ids given to subnets that had none), and the review.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpImportSummary")]
public sealed record DhcpImportSummary(
    [property: Id(0)] DhcpFamily Family,
    [property: Id(1)] int Subnets,
    [property: Id(2)] int SharedNetworks,
    [property: Id(3)] int Pools,
    [property: Id(4)] int PdPools,
    [property: Id(5)] int Reservations,
    [property: Id(6)] int Options,
    [property: Id(7)] int OptionDefs,
    [property: Id(8)] int ClientClasses,
    [property: Id(9)] ImmutableArray<string> Verbatim,
    [property: Id(10)] ImmutableArray<string> Notes,
    [property: Id(11)] ImmutableArray<DhcpFinding> Findings);

/// <summary>A DHCP configuration document that cannot be taken; <see cref="DomainException.Field"/> says where (a JSON path or a line).</summary>
[GenerateSerializer, Alias("ms.DhcpConfigException")]
public sealed class DhcpConfigException : DomainException
{
    public DhcpConfigException()
    {
    }

    public DhcpConfigException(string message)
        : base(message)
    {
    }

    public DhcpConfigException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// A <c>dhcp.push</c> job: the server's configuration of <see cref="Family"/> to its DHCP service (<c>dhcp4</c> or
/// <c>dhcp6</c>). Review errors refuse it; warnings refuse it unless <see cref="AcknowledgeWarnings"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPushSpec")]
public sealed record DhcpPushSpec([property: Id(0)] DhcpFamily Family, [property: Id(1)] bool AcknowledgeWarnings = false) : JobSpec;

/// <summary>
/// A <c>dhcp_ha_maintenance</c> job, sent to the partner of an HA peer about to change: <see cref="Start"/> puts this
/// server in charge of the pair's whole service (Kea's <c>ha-maintenance-start</c>), false hands it back
/// (<c>ha-maintenance-cancel</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpHaMaintenanceSpec")]
public sealed record DhcpHaMaintenanceSpec([property: Id(0)] DhcpFamily Family, [property: Id(1)] bool Start) : JobSpec;

/// <summary>
/// DHCP work over several servers, planned in the cluster (a stateless worker: any silo, no state of its own): a push to
/// servers and their HA partners as one operation (<see cref="Operations.IOperationGrain"/>).
/// </summary>
[Alias("ms.IDhcpFleetGrain")]
public interface IDhcpFleetGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Checks every server (it exists, is a DHCP server with the family's service and a configuration that passes review;
    /// warnings need <paramref name="acknowledgeWarnings"/>) before anything starts, adds the HA partners of the
    /// servers named, and starts the operation. Throws <see cref="DhcpConfigException"/> (field <c>servers</c>) or
    /// <see cref="ConflictException"/> naming the server; nothing is started then.
    /// </summary>
    Task<Operations.OperationSnapshot> PushAsync(DhcpFamily family, ImmutableArray<string> servers, bool acknowledgeWarnings, TimeSpan? waitForAgent);
}
