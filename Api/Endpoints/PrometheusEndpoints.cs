using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Shared.Fleet;

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
            .RequireAuthorization(Permissions.MonitoringRead)
            .WithName("GetPrometheusTargets")
            .WithSummary("Agents that expose Prometheus metrics, in Prometheus http_sd format");
        return app;
    }

    // Every server whose agent reported a metrics address of its own (MetricsTarget: the server's address, or loopback
    // for a local agent; the server grain logs a warning when an agent reports another) in its heartbeats, whatever its
    // state (a silent agent then shows as down in Prometheus). Read from the fleet index shards in parallel;
    // server grains are not activated. (A doc comment here would replace the OpenAPI summary.)
    public static async Task<Ok<PrometheusTargetGroup[]>> TargetsAsync(IGrainFactory grains)
    {
        var servers = (await FleetIndex.AskAllAsync(grains, shard => shard.ListMetricsTargetsAsync())).SelectMany(s => s).ToList();
        servers.Sort(ServerOrdering.Comparer(ServerSort.Name, descending: false));
        var groups = new List<PrometheusTargetGroup>(servers.Count);
        foreach (var server in servers)
        {
            if (MetricsTarget.Resolve(server.MetricsAddress, server.Definition.Address, out _) is { } target)
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
}
