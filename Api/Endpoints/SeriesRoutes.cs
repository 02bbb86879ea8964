using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// The raw and aggregate reads every per-server series offers (DNS and DHCP intervals): the window and paging checks,
/// 404 for an unknown server, then the series' own grain call.
/// </summary>
public static class SeriesRoutes
{
    public static async Task<Results<Ok<RawSamplesView>, ValidationProblem, ProblemHttpResult>> RawAsync(
        IGrainFactory grains, TimeProvider time, string? server, DateTimeOffset? from, DateTimeOffset? to, int? limit,
        Func<string, DateTimeOffset, DateTimeOffset, int, Task<ImmutableArray<StoredSample>>> read)
    {
        var errors = new FieldErrors();
        var window = MonitoringEndpoints.Window(errors, server, from, to, time, TimeSpan.FromHours(1));
        if (limit is < 1 or > MonitoringEndpoints.MaxRawLimit)
        {
            errors.Add("limit", $"must be between 1 and {MonitoringEndpoints.MaxRawLimit}");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (await grains.GetGrain<IManagedServerGrain>(server!).GetAsync() is null)
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var rows = await read(server!, window.From, window.To, limit ?? MonitoringEndpoints.DefaultRawLimit);
        return TypedResults.Ok(new RawSamplesView(server!, window.From, window.To, [.. rows.Select(r => new SystemSampleView(r.Time, r.Values))]));
    }

    public static async Task<Results<Ok<AggregateSamplesView>, ValidationProblem, ProblemHttpResult>> AggregateAsync(
        IGrainFactory grains, TimeProvider time, string? server, DateTimeOffset? from, DateTimeOffset? to, int? step,
        Func<string, DateTimeOffset, DateTimeOffset, int, Task<ImmutableArray<AggregateBucket>>> read)
    {
        var errors = new FieldErrors();
        var window = MonitoringEndpoints.Window(errors, server, from, to, time, TimeSpan.FromDays(1));
        var stepSeconds = MonitoringEndpoints.AggregateStep(errors, window, step);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (await grains.GetGrain<IManagedServerGrain>(server!).GetAsync() is null)
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var buckets = await read(server!, window.From, window.To, stepSeconds);
        return TypedResults.Ok(MonitoringEndpoints.ToAggregateView(server!, stepSeconds, window, buckets));
    }
}
