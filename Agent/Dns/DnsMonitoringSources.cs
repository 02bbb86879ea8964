using ManagedServers.Agent.Services;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// <see cref="IKnotStatsReader"/> through <see cref="KnotControl"/>: the service's own knotc (host or container) on
/// its control socket, sharing the one control connection with <c>dns.apply</c> (knotd 3.2 takes one at a time).
/// </summary>
internal sealed class KnotControlStatsReader(KnotControl control) : IKnotStatsReader
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<string> ReadAsync(CancellationToken cancellationToken)
    {
        var server = await control.RunAsync(["stats"], Timeout, cancellationToken);
        var zones = await control.RunAsync(["zone-stats", "--"], Timeout, cancellationToken);
        foreach (var (result, what) in new[] { (server, "stats"), (zones, "zone-stats") })
        {
            if (!result.Ok)
            {
                throw new InvalidOperationException($"knotc {what} failed (exit {result.ExitCode}): {result.Output.Trim()}");
            }
        }

        return server.Output + "\n" + zones.Output;
    }
}

/// <summary>The zones the DNS service serves: those of the configuration <c>dns.apply</c> last applied.</summary>
internal sealed class AppliedZoneSource(ServiceManagerOptions options) : IDnsZoneSource
{
    public IReadOnlyCollection<string> Zones =>
        DnsAppliedStore.Read(Engines.KnotEngine.LayoutIn(options.ServicesRoot))?.Spec.Zones.Select(z => z.Name).ToArray() ?? [];
}
