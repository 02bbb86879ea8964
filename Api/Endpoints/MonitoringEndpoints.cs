using System.Net.NetworkInformation;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Settings;
using Microsoft.Extensions.Configuration;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/monitoring: what people read about liveness (agents post heartbeats via AgentEndpoints).</summary>
public static class MonitoringEndpoints
{
    public static IEndpointRouteBuilder MapMonitoringApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/monitoring").WithTags("Monitoring").RequireAuthorization(Permissions.MonitoringRead);
        read.MapGet("/heartbeat", HeartbeatsAsync).WithName("GetHeartbeats").WithSummary("Liveness of one server (?server=ID) or of the fleet");
        read.MapGet("/system/raw", SystemRawAsync).WithName("GetSystemRaw")
            .WithSummary("Raw system samples of one server: ?server=ID&from=&to=&metric=a,b,prefix*&limit= (default: the last hour)");
        read.MapGet("/system/aggregate", SystemAggregateAsync).WithName("GetSystemAggregate")
            .WithSummary("Aggregated system metrics (min, avg, max, last) of one server: ?server=ID&from=&to=&step=60|3600|N×60&metric=");
        read.MapGet("/control-plane-ips", ControlPlaneIpsAsync).WithName("GetControlPlaneIps").WithSummary("Addresses at which agents reach the control plane");
        return app;
    }

    public static async Task<Results<Ok<HeartbeatView[]>, ProblemHttpResult>> HeartbeatsAsync(IGrainFactory grains, string? server = null, string? state = null)
    {
        if (!string.IsNullOrEmpty(server))
        {
            var snapshot = await grains.GetGrain<IManagedServerGrain>(server).GetAsync();
            return snapshot is null ? Problem.NotFound($"server '{server}' not found") : TypedResults.Ok(new[] { snapshot.ToHeartbeatView() });
        }

        ServerState? filter = ServerMapping.TryParse<ServerState>(state, out var s) ? s : null;
        var (items, _) = await ServersEndpoints.QueryFleetAsync(grains, new IndexQuery(null, ServerSort.Name, false, 10_000, filter), 0, 10_000);
        return TypedResults.Ok(items.Select(i => i.ToHeartbeatView()).ToArray());
    }

    /// <summary>Default and maximum raw samples per answer.</summary>
    public const int DefaultRawLimit = 5_000;
    public const int MaxRawLimit = 20_000;

    public static async Task<Results<Ok<RawSamplesView>, ValidationProblem, ProblemHttpResult>> SystemRawAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, string? metric = null, int? limit = null)
    {
        var errors = new FieldErrors();
        var (window, filter) = ReadWindow(errors, server, from, to, metric, time, TimeSpan.FromHours(1));
        if (limit is < 1 or > MaxRawLimit)
        {
            errors.Add("limit", $"must be between 1 and {MaxRawLimit}");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (await grains.GetGrain<IManagedServerGrain>(server!).GetAsync() is null)
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var samples = await grains.GetGrain<IServerMetricsGrain>(server!).GetRawAsync(window.From, window.To, filter, limit ?? DefaultRawLimit);
        return TypedResults.Ok(new RawSamplesView(
            server!,
            window.From,
            window.To,
            [.. samples.Select(s => new SystemSampleView(s.Time, s.Values))]));
    }

    public static async Task<Results<Ok<AggregateSamplesView>, ValidationProblem, ProblemHttpResult>> SystemAggregateAsync(
        IGrainFactory grains, TimeProvider time, string? server = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int? step = null, string? metric = null)
    {
        var errors = new FieldErrors();
        var (window, filter) = ReadWindow(errors, server, from, to, metric, time, TimeSpan.FromDays(1));
        var stepSeconds = AggregateStep(errors, window, step);

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (await grains.GetGrain<IManagedServerGrain>(server!).GetAsync() is null)
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var buckets = await grains.GetGrain<IServerMetricsGrain>(server!).GetAggregatesAsync(window.From, window.To, stepSeconds, filter);
        return TypedResults.Ok(ToAggregateView(server!, stepSeconds, window, buckets));
    }

    /// <summary>The bucket width of an aggregate query: <paramref name="step"/>, or a minute (an hour for windows over two days).</summary>
    internal static int AggregateStep(FieldErrors errors, (DateTimeOffset From, DateTimeOffset To) window, int? step)
    {
        var stepSeconds = step ?? (window.To - window.From > TimeSpan.FromDays(2) ? Resolutions.Hour : Resolutions.Minute);
        if (stepSeconds < Resolutions.Minute || stepSeconds % Resolutions.Minute != 0 || stepSeconds > 31 * 86_400)
        {
            errors.Add("step", "must be a whole number of minutes in seconds (60, 300, 3600, …), at most 31 days");
        }
        else if ((window.To - window.From).TotalSeconds / stepSeconds > 20_000)
        {
            errors.Add("step", $"gives {(int)((window.To - window.From).TotalSeconds / stepSeconds)} buckets; use a larger step (at most 20000 buckets)");
        }

        return stepSeconds;
    }

    internal static AggregateSamplesView ToAggregateView(string server, int stepSeconds, (DateTimeOffset From, DateTimeOffset To) window, IEnumerable<AggregateBucket> buckets) => new(
        server,
        stepSeconds,
        window.From,
        window.To,
        [.. buckets.Select(b => new AggregatePointView(b.Start, b.Metrics.ToDictionary(m => m.Key, m => new AggregateValue(m.Value.Min, m.Value.Avg, m.Value.Max, m.Value.Last, m.Value.Count), StringComparer.Ordinal)))]);

    /// <summary>The <c>server</c> and time window every monitoring read takes (default: <paramref name="defaultSpan"/> up to now).</summary>
    internal static (DateTimeOffset From, DateTimeOffset To) Window(FieldErrors errors, string? server, DateTimeOffset? from, DateTimeOffset? to, TimeProvider time, TimeSpan defaultSpan)
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            errors.Add("server", "is required: the server id");
        }

        var end = InRange(errors, "to", to) ?? time.GetUtcNow();
        var start = InRange(errors, "from", from) ?? end - defaultSpan;
        if (start >= end)
        {
            errors.Add("from", $"must be before 'to' ({end:O})");
        }

        return (start, end);
    }

    /// <summary>The earliest and latest time a monitoring read may name: far enough from the calendar's ends that window arithmetic cannot overflow.</summary>
    internal static readonly DateTimeOffset EarliestTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), LatestTime = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset? InRange(FieldErrors errors, string field, DateTimeOffset? value)
    {
        if (value is { } v && (v < EarliestTime || v > LatestTime))
        {
            errors.Add(field, $"must be between {EarliestTime:yyyy-MM-dd} and {LatestTime:yyyy-MM-dd} (was {v:O})");
            return null;
        }

        return value;
    }

    private static ((DateTimeOffset From, DateTimeOffset To) Window, MetricFilter Filter) ReadWindow(
        FieldErrors errors, string? server, DateTimeOffset? from, DateTimeOffset? to, string? metric, TimeProvider time, TimeSpan defaultSpan)
    {
        var (start, end) = Window(errors, server, from, to, time, defaultSpan);
        var filter = MetricFilter.Parse(metric);
        foreach (var pattern in filter.Patterns.IsDefault ? [] : filter.Patterns)
        {
            if (pattern.Length > 200 || pattern.IndexOf('*') is var star && star >= 0 && star != pattern.Length - 1)
            {
                errors.Add("metric", $"'{pattern}' is not a metric name or a prefix ending in *");
            }
        }

        return ((start, end), filter);
    }

    public static async Task<Ok<ControlPlaneIps>> ControlPlaneIpsAsync(IGrainFactory grains, IConfiguration configuration)
    {
        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        var (listenerHost, _) = AgentEndpointConfig.DefaultAgentAddress(configuration);
        var ips = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Where(a => !a.Address.IsIPv6LinkLocal)
            .Select(a => a.Address.ToString())
            .Prepend(listenerHost)
            .Prepend(settings.MonitoringApiIp)
            .Where(a => !string.IsNullOrEmpty(a))
            .Distinct()
            .ToList();
        var defaultIp = string.IsNullOrEmpty(settings.MonitoringApiIp) ? listenerHost : settings.MonitoringApiIp;
        return TypedResults.Ok(new ControlPlaneIps(ips, defaultIp));
    }
}
