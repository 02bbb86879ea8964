using System.Diagnostics;
using System.Net;
using ManagedServers.Agent.Dns;

namespace ManagedServers.Agent.Services;

/// <summary>Outcome of one probe: whether the service answered, what it said (rcode or Kea message), and how fast.</summary>
internal sealed record ProbeResult(bool Ok, string Message, TimeSpan Latency);

/// <summary>
/// "Is it answering?" checks, shared by <c>service.install</c> and diagnostics. DNS: one UDP query (SOA of the root)
/// from the agent's probe socket (<see cref="AgentDnsProbe"/>, so DNS monitoring leaves it out); any DNS response counts,
/// REFUSED included (a server with no zones refuses). Kea: <c>status-get</c> over its unix control socket must return result 0.
/// </summary>
internal static class ServiceProbes
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>One probe of a loop that waits for a service to answer (install, start, restart): short, it is repeated.</summary>
    public static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(250);

    public static async Task<ProbeResult> DnsAsync(IPEndPoint endpoint, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var answer = await AgentDnsProbe.Shared.QuerySoaAsync(endpoint, ".", timeout ?? DefaultTimeout, cancellationToken);
        return answer.Answered
            ? new ProbeResult(true, answer.RcodeText, answer.Latency)
            : new ProbeResult(false, answer.Error ?? $"no answer from {endpoint}", answer.Latency);
    }

    /// <summary><c>{"command":"status-get"}</c> on Kea's control socket; ok when <c>result</c> is 0.</summary>
    public static async Task<ProbeResult> KeaStatusAsync(string socketPath, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var answer = await Engines.KeaControl.SendAsync(socketPath, "status-get", null, timeout ?? DefaultTimeout, cancellationToken);
            return new ProbeResult(answer.Ok, answer.Message, Stopwatch.GetElapsedTime(started));
        }
        catch (Engines.KeaControlException e)
        {
            return new ProbeResult(false, e.Message, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>For logs and steps: "REFUSED in 3 ms".</summary>
    public static string Describe(ProbeResult result) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{result.Message} in {result.Latency.TotalMilliseconds:0} ms");
}
