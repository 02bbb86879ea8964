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
