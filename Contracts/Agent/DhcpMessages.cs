namespace ManagedServers.Contracts.Agent;

/// <summary>
/// <c>dhcp.apply</c>: the Kea configuration <paramref name="Document"/> (<c>{"Dhcp4": …}</c> or <c>{"Dhcp6": …}</c>) for the
/// DHCP service <paramref name="Service"/> (<c>dhcp4</c> or <c>dhcp6</c>), numbered <paramref name="Version"/> by the
/// control plane. The agent sets the members that name its own files (control socket, memfile lease file, IPv6 data
/// directory) and refuses hook libraries from outside Kea's hooks directory and log files outside the service's log
/// directory; then: Kea's <c>config-test</c> on the running server (or <c>-t</c> when it is stopped; nothing live changes
/// on a refusal), the file switched atomically (previous kept), <c>config-set</c>, and a health check (<c>status-get</c>,
/// the subnets <c>config-get</c> reports are the ones sent, every configured interface exists); on any failure the
/// previous file is put back and set again.
/// </summary>
public sealed record DhcpApplyArgs(string Service, int Version, string Document);

/// <summary>
/// Output of <c>dhcp.apply</c> (also the output of a failed one): the version now live, whether the agent rolled back,
/// how it ended (<c>Live</c>, <c>AlreadyLive</c>, <c>NotRunning</c>, <c>RolledBack</c>), the sha256 of Kea's
/// <c>config-get</c> answer after it (null when the service is not running), the subnet ids Kea serves, and the steps.
/// </summary>
public sealed record DhcpApplyOutput(
    int LiveVersion,
    bool RolledBack,
    string Outcome,
    string? ConfigHash,
    IReadOnlyList<long> Subnets,
    IReadOnlyList<string> Steps);

/// <summary>
/// <c>dhcp.leases</c>: leases of the DHCP service <paramref name="Service"/> through Kea's <c>lease_cmds</c> hook. With
/// <paramref name="Search"/>, the leases of one client, found by what the text is: an address, a MAC address
/// (<c>hw-address</c>), hex bytes (DHCPv4 <c>client-id</c>, DHCPv6 <c>duid</c>) or a host name. Without it, one page
/// of up to <paramref name="Limit"/> leases in address order after <paramref name="From"/> (null: the first).
/// </summary>
public sealed record DhcpLeasesArgs(string Service, string? Search = null, string? From = null, int Limit = 100);

/// <summary>
/// One lease as Kea holds it: the address (an IPv6 prefix for a delegated prefix, with <paramref name="PrefixLength"/>),
/// the client (MAC, client-id, DUID, host name), the subnet, when it expires (last transmission + valid lifetime),
/// its state (<c>assigned</c>, <c>declined</c>, <c>expired-reclaimed</c>) and, for DHCPv6, <c>IA_NA</c> or <c>IA_PD</c>.
/// </summary>
public sealed record DhcpLease(
    string Address,
    string? HwAddress,
    string? ClientId,
    string? Duid,
    string? Hostname,
    long SubnetId,
    DateTimeOffset? ExpiresAt,
    string State,
    string? Type = null,
    int? PrefixLength = null);

/// <summary>
/// Output of <c>dhcp.leases</c>: the leases found; <paramref name="Next"/>, the address to page on from (null on the
/// last page or for a search); <paramref name="SearchedBy"/>, what the search text was taken as (<c>address</c>,
/// <c>hw-address</c>, <c>client-id</c>, <c>duid</c>, <c>hostname</c>).
/// </summary>
public sealed record DhcpLeasesOutput(IReadOnlyList<DhcpLease> Items, string? Next, string? SearchedBy);

/// <summary><c>dhcp.lease_delete</c>: deletes the lease of <paramref name="Address"/> (an address, or a delegated prefix's address) from the DHCP service.</summary>
public sealed record DhcpLeaseDeleteArgs(string Service, string Address);

/// <summary><c>dhcp.status</c>: what Kea's <c>status-get</c> says of the DHCP service <paramref name="Service"/>.</summary>
public sealed record DhcpStatusArgs(string Service);

/// <summary>
/// Output of <c>dhcp.status</c>: whether Kea's DHCP sockets are ready, its uptime and, in an HA pair, the mode, this peer's
/// role and state (<c>hot-standby</c>, <c>load-balancing</c>, <c>partner-down</c>, <c>waiting</c>, …), the partner's last
/// known state and whether it is in touch.
/// </summary>
public sealed record DhcpStatusOutput(
    bool SocketsReady,
    long? UptimeSeconds,
    string? HaMode = null,
    string? HaRole = null,
    string? HaState = null,
    string? PartnerState = null,
    bool? PartnerInTouch = null);

/// <summary>
/// <c>dhcp.ha_maintenance</c>: hands the HA pair's service over to this server (<paramref name="Start"/>: Kea's
/// <c>ha-maintenance-start</c>, which puts the partner in the <c>in-maintenance</c> state while this peer serves alone) or
/// hands it back (<c>ha-maintenance-cancel</c>). Sent to the partner of the peer about to change.
/// </summary>
public sealed record DhcpHaMaintenanceArgs(string Service, bool Start);

/// <summary>
/// Output of <c>dhcp.ha_maintenance</c>: whether Kea made the change (<paramref name="Applied"/>; false when there was
/// nothing to do: no HA hook runs, or no maintenance to cancel), Kea's answer, and this peer's HA state after it.
/// </summary>
public sealed record DhcpHaMaintenanceOutput(bool Applied, string Message, string? HaState);
