using System.Security.Claims;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Shared.Telemetry;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/monitoring/dhcp: Kea's statistics per interval of one server (raw, aggregate), and how full subnets are
/// (utilisation): one server's from its grain, or the fleet's fullest from the fleet index shards (each server's summary
/// holds its fullest subnets), so no server grain is activated. Agents post intervals via <see cref="IngestAsync"/>.
/// </summary>
public static class DhcpMonitoringEndpoints
{
    public const int DefaultTop = 20;
    public const int MaxTop = 1000;

    /// <summary>Most subnets one interval may carry.</summary>
    public const int MaxSubnets = 100_000;

    public static IEndpointRouteBuilder MapDhcpMonitoringApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/monitoring/dhcp").WithTags("Monitoring").RequireAuthorization(Permissions.MonitoringRead);
        read.MapGet("/raw", RawAsync).WithName("GetDhcpRaw")
            .WithSummary("DHCP intervals of one server (per subnet total/assigned/declined/utilisation, packet counter increases): ?server=ID&from=&to=&limit= (default: the last hour)");
        read.MapGet("/aggregate", AggregateAsync).WithName("GetDhcpAggregate")
            .WithSummary("Aggregated DHCP metrics of one server: ?server=ID&from=&to=&step=60|3600|N×60");
        read.MapGet("/utilisation", UtilisationAsync).WithName("GetDhcpUtilisation")
            .WithSummary("Subnets fullest first with their level (warning and critical from the monitoring settings): one ?server=ID, or the fleet's top ?n= (default 20) at least ?min= percent full");
        return app;
    }

    public static Task<Results<Ok<RawSamplesView>, ValidationProblem, ProblemHttpResult>> RawAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int? limit = null) =>
        SeriesRoutes.RawAsync(grains, time, server, from, to, limit, (id, f, t, n) => grains.GetGrain<IServerDhcpMetricsGrain>(id).GetDhcpRawAsync(f, t, n));

    public static Task<Results<Ok<AggregateSamplesView>, ValidationProblem, ProblemHttpResult>> AggregateAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int? step = null) =>
        SeriesRoutes.AggregateAsync(grains, time, server, from, to, step, (id, f, t, s) => grains.GetGrain<IServerDhcpMetricsGrain>(id).GetDhcpAggregatesAsync(f, t, s));

    public static async Task<Results<Ok<DhcpUtilisationView>, ValidationProblem, ProblemHttpResult>> UtilisationAsync(
        IGrainFactory grains, string? server = null, int? n = null, double? min = null)
    {
        var errors = new FieldErrors();
        if (n is < 1 or > MaxTop)
        {
            errors.Add("n", $"must be between 1 and {MaxTop}");
        }

        if (min is < 0 or > 100)
        {
            errors.Add("min", "must be a percentage between 0 and 100");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        IEnumerable<FleetSubnetUtilisation> items;
        if (!string.IsNullOrWhiteSpace(server))
        {
            if (await grains.GetGrain<IManagedServerGrain>(server).GetAsync() is not { } found)
            {
                return Problem.NotFound($"server '{server}' not found");
            }

            var subnets = await grains.GetGrain<IServerDhcpMetricsGrain>(server).GetDhcpUtilisationAsync();
            items = subnets.Where(s => s.Utilisation >= (min ?? 0)).Take(n ?? MaxTop).Select(s => new FleetSubnetUtilisation(found.Id, found.Definition.Name, s));
        }
        else
        {
            var top = n ?? DefaultTop;
            var shards = await FleetIndex.AskAllAsync(grains, shard => shard.TopDhcpSubnetsAsync(top, min ?? 0));
            var merged = shards.SelectMany(s => s).ToList();
            merged.Sort(FleetSubnetUtilisation.Order);
            items = merged.Take(top);
        }

        return TypedResults.Ok(new DhcpUtilisationView(
            settings.DhcpUtilisationWarning,
            settings.DhcpUtilisationCritical,
            [.. items.Select(i => new DhcpSubnetUtilisationView(
                i.ServerId, i.ServerName, i.Subnet.Family, i.Subnet.SubnetId, i.Subnet.Prefix, i.Subnet.Total, i.Subnet.Assigned, i.Subnet.Declined,
                i.Subnet.Utilisation, Level(i.Subnet.Utilisation, settings), i.Subnet.At))]));
    }

    /// <summary>ok, warning (at or above the warning level) or critical.</summary>
    public static string Level(double utilisation, MonitoringSettings settings) =>
        utilisation >= settings.DhcpUtilisationCritical ? "critical" : utilisation >= settings.DhcpUtilisationWarning ? "warning" : "ok";

    /// <summary>The agent's POST of a DHCP monitoring interval (mTLS listener, mapped in <see cref="AgentEndpoints"/>).</summary>
    public static async Task<Results<Ok<DhcpIngestResult>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        DhcpMetricsBatch body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (ServersEndpoints.ForeignPost(user, body.ServerId) is { } foreign)
        {
            return foreign;
        }

        var serverId = body.ServerId;

        var errors = new FieldErrors();
        if (body.IntervalEnd <= body.IntervalStart)
        {
            errors.Add("interval_end", "must be after interval_start");
        }

        if (body.Subnets is null)
        {
            errors.Add("subnets", "is required");
        }
        else if (body.Subnets.Count > MaxSubnets)
        {
            errors.Add("subnets", $"carries {body.Subnets.Count} subnets; at most {MaxSubnets}");
        }
        else if (body.Subnets.Any(s => s.Family is not (4 or 6) || s.Total < 0 || s.Assigned < 0))
        {
            errors.Add("subnets", "each needs family 4 or 6 and counts of zero or more");
        }

        if (body.Packets is null)
        {
            errors.Add("packets", "is required");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await grains.GetGrain<IServerDhcpMetricsGrain>(serverId).IngestDhcpAsync(body);
        FleetMetrics.IngestReceived(AmqpTopology.DhcpMetricsKind, FleetMetrics.Https);
        return TypedResults.Ok(result);
    }
}
