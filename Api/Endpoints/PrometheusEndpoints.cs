using System.Net;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Fleet;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/prometheus: service discovery for Prometheus (<c>http_sd_configs</c>). The silo's own
/// metrics are at <c>/metrics</c> (Silo/Telemetry/MetricsSetup.cs).
/// </summary>
public static class PrometheusEndpoints
{
    public static IEndpointRouteBuilder MapPrometheusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/prometheus/targets", TargetsAsync)
            .WithTags("Prometheus")
            .RequireAuthorization(AuthNames.PeopleRead)
            .WithName("GetPrometheusTargets")
            .WithSummary("Agents that expose Prometheus metrics, in Prometheus http_sd format");
        return app;
    }

    // Every server whose agent reported a metrics address in its heartbeats, whatever its state (a
    // silent agent then shows as down in Prometheus). Read from the fleet index shards in parallel;
    // server grains are not activated. (A doc comment here would replace the OpenAPI summary.)
    public static async Task<Ok<PrometheusTargetGroup[]>> TargetsAsync(IGrainFactory grains)
    {
        var servers = (await FleetIndex.AskAllAsync(grains, shard => shard.ListMetricsTargetsAsync())).SelectMany(s => s).ToList();
        servers.Sort(ServerOrdering.Comparer(ServerSort.Name, descending: false));
        var groups = new List<PrometheusTargetGroup>(servers.Count);
        foreach (var server in servers)
        {
            if (TargetOf(server.MetricsAddress, server.Definition.Address, server.Hostname) is { } target)
            {
                groups.Add(new PrometheusTargetGroup([target], Labels(server)));
            }
        }

        return TypedResults.Ok(groups.ToArray());
    }

    private static Dictionary<string, string> Labels(ServerSnapshot server) => new(StringComparer.Ordinal)
    {
        ["server_id"] = server.Id,
        ["server_name"] = server.Definition.Name,
        ["kind"] = ServerMapping.Wire(server.Definition.Kind),
    };

    /// <summary>
    /// The address Prometheus scrapes: the agent's <c>host:port</c> as reported, except that a wildcard
    /// listen address (<c>0.0.0.0</c>, <c>[::]</c>, <c>*</c> or no host) becomes the server's
    /// <paramref name="address"/> (else its <paramref name="hostname"/>) with the reported port.
    /// Null when the report has no valid port or no host can be found.
    /// </summary>
    public static string? TargetOf(string? metricsAddress, string? address, string? hostname)
    {
        if (string.IsNullOrWhiteSpace(metricsAddress))
        {
            return null;
        }

        var text = metricsAddress.Trim();
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            return null; // an IPv6 address without brackets: the port is ambiguous
        }

        if (IsWildcard(host))
        {
            host = !string.IsNullOrWhiteSpace(address) ? address.Trim() : hostname?.Trim() ?? string.Empty;
            if (host.Length == 0 || IsWildcard(host))
            {
                return null;
            }
        }

        var bracket = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return bracket ? $"[{host}]:{port}" : $"{host}:{port}";
    }

    private static bool IsWildcard(string host) =>
        host.Length == 0 || host is "*" or "+" or "0.0.0.0" or "::" || (IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
}
