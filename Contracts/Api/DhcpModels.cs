namespace ManagedServers.Contracts.Api;

/// <summary>
/// One option value (Kea's <c>option-data</c>): by <c>name</c> (<c>routers</c>, <c>domain-name-servers</c>, …) or
/// <c>code</c>, in <c>space</c> (default <c>dhcp4</c>/<c>dhcp6</c>), with its <c>data</c> as Kea writes it.
/// </summary>
public sealed record DhcpOptionData(string? Name = null, int? Code = null, string? Space = null, string? Data = null, bool? CsvFormat = null, bool? AlwaysSend = null);

/// <summary>An IPv6 prefix-delegation pool: <c>prefix</c>/<c>prefix_len</c> handed out as /<c>delegated_len</c>.</summary>
public sealed record DhcpPdPoolData(string Prefix, int PrefixLen, int DelegatedLen, string? ExcludedPrefix = null, int? ExcludedPrefixLen = null);

/// <summary>
/// A host reservation: exactly one client identifier (<c>hw_address</c>, <c>client_id</c>, <c>duid</c>,
/// <c>circuit_id</c> or <c>flex_id</c>; hex such as <c>1a:1b:1c:1d:1e:1f</c>), then what it reserves:
/// <c>ip_address</c> (DHCPv4), <c>ip_addresses</c> and <c>prefixes</c> (DHCPv6), <c>hostname</c>, options, classes.
/// </summary>
public record DhcpReservationData
{
    public string? HwAddress { get; init; }

    public string? ClientId { get; init; }

    public string? Duid { get; init; }

    public string? CircuitId { get; init; }

    public string? FlexId { get; init; }

    public string? IpAddress { get; init; }

    public IReadOnlyList<string>? IpAddresses { get; init; }

    public IReadOnlyList<string>? Prefixes { get; init; }

    public string? Hostname { get; init; }

    public IReadOnlyList<DhcpOptionData>? Options { get; init; }

    public IReadOnlyList<string>? ClientClasses { get; init; }
}

/// <summary>
/// <c>POST /api/v1/dhcp/subnets/{id}/reservations</c> (and global ones, <c>POST /api/v1/dhcp/reservations</c>): a
/// reservation, its <c>family</c> and the <c>servers</c> whose configuration gets it.
/// </summary>
public sealed record DhcpReservationRequest : DhcpReservationData
{
    public int? Family { get; init; }

    public IReadOnlyList<string>? Servers { get; init; }
}

/// <summary>
/// <c>POST /api/v1/dhcp/subnets</c> and <c>PUT /api/v1/dhcp/subnets/{id}</c>: a subnet of <c>family</c> 4 or 6 with its
/// explicit <c>id</c>, its prefix (<c>subnet</c>), pools (<c>first-last</c> or a prefix), prefix-delegation pools,
/// reservations, options, and the <c>servers</c> whose configuration gets it (each keeps its own copy).
/// </summary>
public sealed record DhcpSubnetRequest(
    int? Family = null,
    long? Id = null,
    string? Subnet = null,
    IReadOnlyList<string>? Pools = null,
    IReadOnlyList<DhcpPdPoolData>? PdPools = null,
    IReadOnlyList<DhcpReservationData>? Reservations = null,
    IReadOnlyList<DhcpOptionData>? Options = null,
    string? ClientClass = null,
    string? Interface = null,
    IReadOnlyList<string>? Servers = null);

/// <summary>A subnet as a server's configuration has it (<c>shared_network</c>: the one it is in, if any).</summary>
public sealed record DhcpSubnetView(
    int Family,
    long Id,
    string Subnet,
    string? SharedNetwork,
    IReadOnlyList<string> Pools,
    IReadOnlyList<DhcpPdPoolData> PdPools,
    IReadOnlyList<DhcpReservationData> Reservations,
    IReadOnlyList<DhcpOptionData> Options,
    string? ClientClass,
    string? Interface,
    IReadOnlyList<string> Servers);

/// <summary><c>POST /api/v1/dhcp/subnets/{id}/pools</c>: one pool (<c>first-last</c> or a prefix) for the subnet on <c>servers</c>.</summary>
public sealed record DhcpPoolRequest(int? Family = null, string? Pool = null, IReadOnlyList<string>? Servers = null);

/// <summary><c>PUT /api/v1/dhcp/options</c>: the global option data of <c>family</c> on <c>servers</c>.</summary>
public sealed record DhcpOptionsRequest(int? Family = null, IReadOnlyList<DhcpOptionData>? Options = null, IReadOnlyList<string>? Servers = null);

/// <summary>A list without paging.</summary>
public sealed record ItemsOf<T>(IReadOnlyList<T> Items);

/// <summary>
/// One lease: <c>family</c>, <c>address</c> (a delegated prefix with <c>prefix_len</c>), the client (<c>hw_address</c>,
/// <c>client_id</c>, <c>duid</c>, <c>hostname</c>), <c>subnet_id</c>, <c>expires_at</c>, <c>state</c> (assigned,
/// declined, expired-reclaimed), and for DHCPv6 <c>type</c> (IA_NA, IA_PD).
/// </summary>
public sealed record DhcpLeaseView(
    int Family,
    string Address,
    string? HwAddress,
    string? ClientId,
    string? Duid,
    string? Hostname,
    long SubnetId,
    DateTimeOffset? ExpiresAt,
    string State,
    string? Type,
    int? PrefixLen);

/// <summary>
/// <c>GET /api/v1/servers/{id}/leases</c>: the leases found; <c>next</c>, the <c>from</c> of the next page (one family
/// listed without a search, null on its last page); <c>searched_by</c>, what the search text was taken as.
/// </summary>
public sealed record DhcpLeasesView(IReadOnlyList<DhcpLeaseView> Items, string? Next, string? SearchedBy);

/// <summary>
/// One subnet in a utilisation listing: the server, the subnet (<c>family</c>, <c>subnet_id</c>, its prefix when the
/// server's configuration names it), addresses <c>total</c>, <c>assigned</c> and <c>declined</c> (for a DHCPv6 subnet
/// whose delegated prefixes are fuller: prefixes), <c>utilisation</c> in percent, <c>level</c> (ok, warning, critical)
/// and when it was measured.
/// </summary>
public sealed record DhcpSubnetUtilisationView(
    string ServerId,
    string ServerName,
    int Family,
    long SubnetId,
    string? Subnet,
    double Total,
    double Assigned,
    double Declined,
    double Utilisation,
    string Level,
    DateTimeOffset At);

/// <summary><c>GET /api/v1/monitoring/dhcp/utilisation</c>: the levels in force and the subnets, fullest first.</summary>
public sealed record DhcpUtilisationView(int Warning, int Critical, IReadOnlyList<DhcpSubnetUtilisationView> Items);

/// <summary>One peer of an HA pair: the managed <c>server</c>, its <c>name</c> in the pair (default: the server's name), the <c>url</c> its HA listener answers on, its <c>role</c>.</summary>
public sealed record DhcpHaPeerData(string? Server = null, string? Url = null, string? Role = null, string? Name = null, bool? AutoFailover = null);

/// <summary>
/// <c>PUT /api/v1/dhcp/ha</c>: makes the configurations of <c>family</c> of the peers' servers one HA pair (<c>mode</c>
/// hot-standby or load-balancing), each rendered with its own <c>this-server-name</c>; the timers in milliseconds.
/// </summary>
public sealed record DhcpHaRequest(
    int? Family = null,
    string? Mode = null,
    IReadOnlyList<DhcpHaPeerData>? Peers = null,
    int? HeartbeatDelayMs = null,
    int? MaxResponseDelayMs = null,
    int? MaxAckDelayMs = null,
    int? MaxUnackedClients = null);

/// <summary>
/// <c>GET /api/v1/servers/{id}/dhcp/status</c>: what Kea says now of a DHCP service: sockets ready, uptime, and in an HA
/// pair the mode, this peer's role and state, its partner's last state and whether it is in touch.
/// </summary>
public sealed record DhcpServiceStatusView(
    int Family,
    bool SocketsReady,
    long? UptimeSeconds,
    string? HaMode,
    string? HaRole,
    string? HaState,
    string? PartnerState,
    bool? PartnerInTouch);

/// <summary>
/// <c>POST /api/v1/dhcp/push</c>: pushes the configuration of <c>family</c> (4 by default) to each of <c>servers</c> and
/// their HA partners as one operation (HA pairs one peer at a time, the standby first, each wrapped in a hand-over).
/// </summary>
public sealed record DhcpPushRequest(
    int? Family = null,
    IReadOnlyList<string>? Servers = null,
    bool? AcknowledgeWarnings = null,
    int? WaitForAgentSeconds = null);

/// <summary>
/// <c>POST /api/v1/dhcp/shared-networks</c> (and PUT <c>…/{name}</c>): a shared network of <c>family</c> on <c>servers</c>:
/// its <c>interface</c>, <c>options</c> and the ids of the <c>subnets</c> on its link (they move into it).
/// </summary>
public sealed record DhcpSharedNetworkRequest(
    int? Family = null,
    string? Name = null,
    string? Interface = null,
    IReadOnlyList<DhcpOptionData>? Options = null,
    IReadOnlyList<long>? Subnets = null,
    IReadOnlyList<string>? Servers = null);

/// <summary>A shared network as one server's configuration has it (its subnets by id).</summary>
public sealed record DhcpSharedNetworkView(int Family, string Name, string? Interface, IReadOnlyList<DhcpOptionData> Options, IReadOnlyList<long> Subnets);

/// <summary>
/// <c>POST /api/v1/dhcp/client-classes</c> (and PUT <c>…/{name}</c>): a client class of <c>family</c> on <c>servers</c>: its
/// <c>test</c> expression (Kea's syntax; <c>kea-dhcpN -t</c> judges it at push time) and the <c>options</c> its members get.
/// </summary>
public sealed record DhcpClientClassRequest(
    int? Family = null,
    string? Name = null,
    string? Test = null,
    IReadOnlyList<DhcpOptionData>? Options = null,
    IReadOnlyList<string>? Servers = null);

/// <summary>A client class as one server's configuration has it.</summary>
public sealed record DhcpClientClassView(int Family, string Name, string? Test, IReadOnlyList<DhcpOptionData> Options);
