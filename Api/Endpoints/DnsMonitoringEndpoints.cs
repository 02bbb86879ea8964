using System.Security.Claims;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Shared.Telemetry;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/monitoring/dns: Knot's counters and per-name hits of one server (agents post them via <see cref="DnsMetricsEndpoints"/>).</summary>
public static class DnsMonitoringEndpoints
{
    public const int DefaultTop = 20;
    public const int MaxTop = 10_000;

    public static IEndpointRouteBuilder MapDnsMonitoringApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/monitoring/dns").WithTags("Monitoring").RequireAuthorization(Permissions.MonitoringRead);
        read.MapGet("/raw", RawAsync).WithName("GetDnsRaw")
            .WithSummary("DNS intervals of one server (counter deltas, queries, rps, dnstap frames seen/dropped): ?server=ID&from=&to=&limit= (default: the last hour)");
        read.MapGet("/aggregate", AggregateAsync).WithName("GetDnsAggregate")
            .WithSummary("Aggregated DNS metrics of one server (sum = count in the bucket): ?server=ID&from=&to=&step=60|3600|N×60");
        read.MapGet("/rps", RpsAsync).WithName("GetDnsRps").WithSummary("DNS responses per second of one server over time, and the latest: ?server=ID&from=&to=");
        read.MapGet("/top", TopAsync).WithName("GetDnsTop").WithSummary("Top names of one server by hits, with last access: ?server=ID&zone=&n=20&from=&to= (default: the last hour)");
        return app;
    }

    private static (DateTimeOffset From, DateTimeOffset To) Window(FieldErrors errors, string? server, DateTimeOffset? from, DateTimeOffset? to, TimeProvider time, TimeSpan span) =>
        MonitoringEndpoints.Window(errors, server, from, to, time, span);

    private static async Task<bool> ExistsAsync(IGrainFactory grains, string server) => await grains.GetGrain<IManagedServerGrain>(server).GetAsync() is not null;

    public static Task<Results<Ok<RawSamplesView>, ValidationProblem, ProblemHttpResult>> RawAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int? limit = null) =>
        SeriesRoutes.RawAsync(grains, time, server, from, to, limit, (id, f, t, n) => grains.GetGrain<IServerDnsMetricsGrain>(id).GetDnsRawAsync(f, t, n));

    public static Task<Results<Ok<AggregateSamplesView>, ValidationProblem, ProblemHttpResult>> AggregateAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int? step = null) =>
        SeriesRoutes.AggregateAsync(grains, time, server, from, to, step, (id, f, t, s) => grains.GetGrain<IServerDnsMetricsGrain>(id).GetDnsAggregatesAsync(f, t, s));

    public static async Task<Results<Ok<DnsRpsView>, ValidationProblem, ProblemHttpResult>> RpsAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var errors = new FieldErrors();
        var window = Window(errors, server, from, to, time, TimeSpan.FromHours(1));
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (!await ExistsAsync(grains, server!))
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var rows = await grains.GetGrain<IServerDnsMetricsGrain>(server!).GetDnsRawAsync(window.From, window.To, MonitoringEndpoints.MaxRawLimit);
        var points = rows.Select(r => new DnsRpsPoint(r.Time, r.Values.GetValueOrDefault(DnsMetricNames.Rps), r.Values.GetValueOrDefault(DnsMetricNames.Queries))).ToList();
        var last = points.Count == 0 ? null : points[^1];
        return TypedResults.Ok(new DnsRpsView(server!, window.From, window.To, last?.Rps, last?.Time, points));
    }

    public static async Task<Results<Ok<DnsTopView>, ValidationProblem, ProblemHttpResult>> TopAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, string? zone = null, int? n = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var errors = new FieldErrors();
        var window = Window(errors, server, from, to, time, TimeSpan.FromHours(1));
        if (n is < 1 or > MaxTop)
        {
            errors.Add("n", $"must be between 1 and {MaxTop}");
        }

        var zoneName = string.IsNullOrWhiteSpace(zone) ? null : zone.Trim().TrimEnd('.').ToLowerInvariant();
        if (zoneName is { Length: > 253 })
        {
            errors.Add("zone", "is not a domain name");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (!await ExistsAsync(grains, server!))
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var top = await grains.GetGrain<IServerDnsMetricsGrain>(server!).GetDnsTopAsync(zoneName, n ?? DefaultTop, window.From, window.To);
        return TypedResults.Ok(new DnsTopView(server!, zoneName, window.From, window.To, [.. top.Select(t => new DnsNameHits(t.Zone, t.Name, t.Hits, t.LastAccess))]));
    }
}

/// <summary>The agent's POST of a DNS monitoring interval (mTLS listener, mapped in <see cref="AgentEndpoints"/>).</summary>
public static class DnsMetricsEndpoints
{
    /// <summary>Most names one interval may carry (the agent sends its top 10,000).</summary>
    public const int MaxNames = 20_000;

    public static async Task<Results<Ok<DnsIngestResult>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        DnsMetricsBatch body, ClaimsPrincipal user, IGrainFactory grains)
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

        if (body.Names is null)
        {
            errors.Add("names", "is required");
        }
        else if (body.Names.Count > MaxNames)
        {
            errors.Add("names", $"carries {body.Names.Count} names; at most {MaxNames}");
        }

        if (body.Counters is null)
        {
            errors.Add("counters", "is required");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await grains.GetGrain<IServerDnsMetricsGrain>(serverId).IngestDnsAsync(body);
        FleetMetrics.IngestReceived(AmqpTopology.DnsMetricsKind, FleetMetrics.Https);
        return TypedResults.Ok(result);
    }
}
