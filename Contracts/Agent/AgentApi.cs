namespace ManagedServers.Contracts.Agent;

/// <summary>
/// The agent-facing HTTP API: paths (relative to the agent URL) and the problem type that tells an
/// agent it has been refused for good. Shared by the control plane, the agent, the tests and the simulator.
/// </summary>
public static class AgentApi
{
    public const string Enroll = "api/v1/agent/enroll";
    public const string Renew = "api/v1/agent/renew";
    public const string Heartbeat = "api/v1/monitoring/heartbeat";
    public const string Commands = "api/v1/agent/commands";
    public const string Metrics = "api/v1/monitoring/metrics";

    /// <summary>POST a <see cref="DnsMetricsBatch"/>: 200 once it is stored.</summary>
    public const string DnsMetrics = "api/v1/monitoring/dns-metrics";

    /// <summary>POST a <see cref="DhcpMetricsBatch"/>: 200 once it is stored.</summary>
    public const string DhcpMetrics = "api/v1/monitoring/dhcp-metrics";

    /// <summary>
    /// Route template of a zone file for <c>dns.apply</c>: <c>GET api/v1/agent/zones/{zone}/file?serial=N</c> answers the
    /// gzip-compressed zone text (<c>application/gzip</c>) at that serial; 410 when the zone changed since, 403 when the
    /// zone is not assigned to the agent's server.
    /// </summary>
    public const string ZoneFileTemplate = "api/v1/agent/zones/{zone}/file";

    public static string ZoneFile(string zone, long serial) =>
        $"api/v1/agent/zones/{Api.ZoneUrl.Segment(zone)}/file?serial={serial.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Route template of a command's result.</summary>
    public const string CommandResultTemplate = Commands + "/{commandId}/result";

    /// <summary>
    /// Pull mode (the agent's opt-in <c>run --pull-listen</c> HTTPS endpoint, absolute paths on the agent):
    /// <c>GET /pull/v1/samples?ack={unixMs}&amp;max={n}</c> first removes spooled samples with time ≤ ack, then
    /// answers the oldest up to max as a <see cref="MetricsBatch"/>.
    /// </summary>
    public const string PullSamples = "/pull/v1/samples";

    /// <summary>Pull mode: <c>GET /pull/v1/heartbeat</c> answers a <see cref="Heartbeat"/>, so a pull also proves liveness.</summary>
    public const string PullHeartbeat = "/pull/v1/heartbeat";

    /// <summary>Samples a pull answers when it names no max.</summary>
    public const int PullDefaultMax = 500;

    /// <summary>Most samples one pull answers, whatever max it names.</summary>
    public const int PullMaxCap = 1000;

    /// <summary>The port the control plane pulls from when the server names none (<c>Pull:DefaultPort</c> overrides it).</summary>
    public const int PullDefaultPort = 9443;

    /// <summary>
    /// Common name of the control plane's own client certificate (issued by its CA, clientAuth): the only
    /// client an agent's pull endpoint answers.
    /// </summary>
    public const string ControlPlaneCommonName = "managedservers-control-plane";

    /// <summary>Problem type when the agent's server was deleted or its certificate revoked.</summary>
    public const string RevokedProblemType = "https://managedservers.dev/problems/agent-revoked";
}
