namespace ManagedServers.Grains.Interfaces.Dhcp;

/// <summary>IPv4 (Kea's <c>Dhcp4</c>) or IPv6 (<c>Dhcp6</c>).</summary>
public enum DhcpFamily
{
    V4 = 4,
    V6 = 6,
}

/// <summary>
/// A DHCP server configuration of one family, as the product models it: what operators edit and what review checks
/// (timers, option definitions and data, client classes, shared networks, subnets with their pools, prefix-delegation
/// pools and reservations, global reservations, the lease database, hook libraries). Everything in Kea's configuration
/// the model does not cover is kept verbatim, per object, in an <c>Extra</c> JSON object (order kept) and rendered back
/// as it came: an import never drops anything silently.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpConfig")]
public sealed record DhcpConfig(
    [property: Id(0)] DhcpFamily Family,
    [property: Id(1)] DhcpTimers Timers,
    [property: Id(2)] ImmutableArray<DhcpOptionDef> OptionDefs,
    [property: Id(3)] ImmutableArray<DhcpOption> Options,
    [property: Id(4)] ImmutableArray<DhcpClientClass> ClientClasses,
    [property: Id(5)] ImmutableArray<DhcpSharedNetwork> SharedNetworks,
    [property: Id(6)] ImmutableArray<DhcpSubnet> Subnets,
    [property: Id(7)] ImmutableArray<DhcpReservation> Reservations,
    [property: Id(8)] DhcpLeaseDatabase? LeaseDatabase,
    [property: Id(9)] ImmutableArray<DhcpHook> Hooks,
    [property: Id(10)] string? Extra,
    [property: Id(11)] DhcpHa? Ha = null)
{
    /// <summary>An empty configuration of <paramref name="family"/>.</summary>
    public static DhcpConfig Empty(DhcpFamily family) => new(family, DhcpTimers.None, [], [], [], [], [], [], null, [], null);

    /// <summary>
    /// Every subnet: those on their own, then those of each shared network. A method, not a property: grain state is
    /// stored as JSON of its properties, and a computed sequence stored with its iterator's type could not be read back.
    /// </summary>
    public IEnumerable<DhcpSubnet> EverySubnet() => Subnets.Concat(SharedNetworks.SelectMany(n => n.Subnets));

    /// <summary>The subnet with id <paramref name="id"/>, on its own or in a shared network; null when there is none.</summary>
    public DhcpSubnet? FindSubnet(long id) => EverySubnet().FirstOrDefault(s => s.Id == id);
}

/// <summary>Lease timers in seconds (null: Kea's default, or inherited).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpTimers")]
public sealed record DhcpTimers(
    [property: Id(0)] long? ValidLifetime,
    [property: Id(1)] long? RenewTimer,
    [property: Id(2)] long? RebindTimer,
    [property: Id(3)] long? PreferredLifetime)
{
    public static readonly DhcpTimers None = new(null, null, null, null);
}

/// <summary>A custom option definition (<c>option-def</c>).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpOptionDef")]
public sealed record DhcpOptionDef(
    [property: Id(0)] string Name,
    [property: Id(1)] int Code,
    [property: Id(2)] string Type,
    [property: Id(3)] string? Space,
    [property: Id(4)] bool? Array,
    [property: Id(5)] string? RecordTypes,
    [property: Id(6)] string? Encapsulate,
    [property: Id(7)] string? Extra);

/// <summary>One option value (<c>option-data</c>), by name or code.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpOption")]
public sealed record DhcpOption(
    [property: Id(0)] string? Name,
    [property: Id(1)] int? Code,
    [property: Id(2)] string? Space,
    [property: Id(3)] string? Data,
    [property: Id(4)] bool? CsvFormat,
    [property: Id(5)] bool? AlwaysSend,
    [property: Id(6)] string? Extra);

/// <summary>A client class: its name, its test expression and the options it adds.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpClientClass")]
public sealed record DhcpClientClass(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Test,
    [property: Id(2)] ImmutableArray<DhcpOption> Options,
    [property: Id(3)] string? Extra);

/// <summary>A shared network: subnets on one link.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpSharedNetwork")]
public sealed record DhcpSharedNetwork(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Interface,
    [property: Id(2)] ImmutableArray<DhcpOption> Options,
    [property: Id(3)] ImmutableArray<DhcpSubnet> Subnets,
    [property: Id(4)] string? Extra);

/// <summary>
/// A subnet with its explicit id (unique in a configuration), its prefix as Kea writes it (<c>192.0.2.0/24</c>,
/// <c>2001:db8:1::/64</c>), pools and reservations.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpSubnet")]
public sealed record DhcpSubnet(
    [property: Id(0)] long Id,
    [property: Id(1)] string Prefix,
    [property: Id(2)] ImmutableArray<DhcpPool> Pools,
    [property: Id(3)] ImmutableArray<DhcpPdPool> PdPools,
    [property: Id(4)] ImmutableArray<DhcpReservation> Reservations,
    [property: Id(5)] ImmutableArray<DhcpOption> Options,
    [property: Id(6)] string? ClientClass,
    [property: Id(7)] string? Interface,
    [property: Id(8)] string? Extra);

/// <summary>An address pool: <c>first - last</c> or a prefix, as Kea writes it.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPool")]
public sealed record DhcpPool(
    [property: Id(0)] string Range,
    [property: Id(1)] ImmutableArray<DhcpOption> Options,
    [property: Id(2)] string? ClientClass,
    [property: Id(3)] string? Extra);

/// <summary>An IPv6 prefix-delegation pool: <c>prefix/prefix-len</c> handed out in pieces of <c>delegated-len</c>.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPdPool")]
public sealed record DhcpPdPool(
    [property: Id(0)] string Prefix,
    [property: Id(1)] int PrefixLength,
    [property: Id(2)] int DelegatedLength,
    [property: Id(3)] string? ExcludedPrefix,
    [property: Id(4)] int? ExcludedPrefixLength,
    [property: Id(5)] ImmutableArray<DhcpOption> Options,
    [property: Id(6)] string? ClientClass,
    [property: Id(7)] string? Extra);

/// <summary>
/// A host reservation, in a subnet or global: the client it is for (<see cref="IdentifierType"/> is Kea's member name:
/// <c>hw-address</c>, <c>client-id</c>, <c>duid</c>, <c>circuit-id</c>, <c>flex-id</c>), the addresses and (IPv6)
/// prefixes it reserves, its hostname, options and classes.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpReservation")]
public sealed record DhcpReservation(
    [property: Id(0)] string IdentifierType,
    [property: Id(1)] string Identifier,
    [property: Id(2)] ImmutableArray<string> Addresses,
    [property: Id(3)] ImmutableArray<string> Prefixes,
    [property: Id(4)] string? Hostname,
    [property: Id(5)] ImmutableArray<DhcpOption> Options,
    [property: Id(6)] ImmutableArray<string> ClientClasses,
    [property: Id(7)] string? Extra);

/// <summary>Where leases are kept (<c>lease-database</c>).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpLeaseDatabase")]
public sealed record DhcpLeaseDatabase(
    [property: Id(0)] string Type,
    [property: Id(1)] string? Name,
    [property: Id(2)] bool? Persist,
    [property: Id(3)] long? LfcInterval,
    [property: Id(4)] string? Extra);

/// <summary>A hook library and its parameters (a JSON value, verbatim).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpHook")]
public sealed record DhcpHook(
    [property: Id(0)] string Library,
    [property: Id(1)] string? Parameters);

/// <summary>How much a review finding matters: an error refuses a push; a warning is shown and can be acknowledged.</summary>
public enum DhcpSeverity
{
    Warning,
    Error,
}

/// <summary>
/// One thing a review found: how much it matters, which check found it (a stable code such as <c>subnet-overlap</c>),
/// the object it is about as an operator names it (<c>subnet 1 (192.0.2.0/24)</c>), and what is wrong.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpFinding")]
public sealed record DhcpFinding(
    [property: Id(0)] DhcpSeverity Severity,
    [property: Id(1)] string Check,
    [property: Id(2)] string Object,
    [property: Id(3)] string Message);

/// <summary>
/// A high-availability pair this configuration belongs to (Kea's <c>ha</c> hook): the mode (<c>hot-standby</c> or
/// <c>load-balancing</c>), the peers (each a managed server, its name in the pair, the URL its HA listener answers on,
/// its role: <c>primary</c>, <c>standby</c>, <c>secondary</c> or <c>backup</c>) and the failure-detection timers.
/// Every peer's configuration carries the same pair; each is rendered with its own <c>this-server-name</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpHa")]
public sealed record DhcpHa(
    [property: Id(0)] string Mode,
    [property: Id(1)] ImmutableArray<DhcpHaPeer> Peers,
    [property: Id(2)] int HeartbeatDelayMs = 10_000,
    [property: Id(3)] int MaxResponseDelayMs = 60_000,
    [property: Id(4)] int MaxAckDelayMs = 10_000,
    [property: Id(5)] int MaxUnackedClients = 10);

/// <summary>One peer of an HA pair: the managed server, its name in Kea's HA configuration, its HA URL and its role.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpHaPeer")]
public sealed record DhcpHaPeer(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Url,
    [property: Id(3)] string Role,
    [property: Id(4)] bool AutoFailover = true);
