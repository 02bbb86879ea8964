using System.Net;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>Asks a running service whether it answers. Both methods throw when there is no answer at all.</summary>
internal interface IServiceProbe
{
    /// <summary>A SOA query for "." to <paramref name="endpoint"/>; any DNS response counts as an answer.</summary>
    Task<DnsProbeResult> DnsAsync(IPEndPoint endpoint, CancellationToken cancellationToken);

    /// <summary><c>{"command":"status-get"}</c> on a Kea control socket.</summary>
    Task<KeaProbeResult> KeaStatusAsync(string socketPath, CancellationToken cancellationToken);
}

/// <summary>The response code of a DNS answer, as its mnemonic (NOERROR, REFUSED, …).</summary>
internal sealed record DnsProbeResult(string ResponseCode);

/// <summary>Kea's answer: <c>result</c> (0 = success) and <c>text</c>.</summary>
internal sealed record KeaProbeResult(int Result, string? Text);
