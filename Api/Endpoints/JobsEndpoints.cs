using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Fleet;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Runtime;
using Orleans.Streams;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/jobs: the long actions of the fleet. A job id names its server, so <c>GET /jobs/{id}</c> is one grain call.
/// Listing needs <c>server</c> for a server's history; without it the list shows the fleet's active jobs (found through
/// the sharded fleet index, never by activating every server).
/// </summary>
public static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/jobs").WithTags("Jobs").RequireAuthorization(Permissions.JobsRead);
        read.MapGet("/", ListAsync).WithName("ListJobs").WithSummary("A server's jobs (?server=), or the fleet's active jobs; ?state=, ?kind= and ?requested_by= filter");
        read.MapGet("/events", EventsAsync).WithName("JobEvents")
            .WithSummary("A server's job events as they happen (server-sent events, ?server= required): queued, step, progress, succeeded, failed")
            .Produces<JobEventView>(StatusCodes.Status200OK, "text/event-stream");
        read.MapGet("/{jobId}", GetAsync).WithName("GetJob").WithSummary("One job; ?wait_seconds=N&version=V waits up to N s for a change after version V");
        return app;
    }

    public static async Task<Results<Ok<PageOf<JobView>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        IGrainFactory grains, string? server = null, string? state = null, string? requested_by = null, int? page = null, int? per_page = null, string? kind = null)
    {
        var errors = new FieldErrors();
        var (pageNo, perPage) = errors.Paging(page, per_page);
        var stateFilter = errors.Filter<JobState>(state, "state");
        if (server is not null && string.IsNullOrWhiteSpace(server))
        {
            errors.Add("server", "is empty: give a server id, or leave it out for the jobs of every server");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        IEnumerable<JobSnapshot> jobs;
        if (server is not null)
        {
            jobs = await grains.GetGrain<IServerJobsGrain>(server).ListJobsAsync(); // unknown server: 404 from the grain
        }
        else
        {
            var busy = await FleetIndex.AskAllAsync(grains, shard => shard.ListWithActiveJobsAsync());
            var lists = await Task.WhenAll(busy.SelectMany(s => s).Select(id => JobsOfAsync(grains.GetGrain<IServerJobsGrain>(id))));
            jobs = lists.SelectMany(l => l).Where(j => !j.Finished).OrderByDescending(j => j.CreatedAt);
        }

        var filtered = jobs
            .Where(j => stateFilter is null || j.State == stateFilter)
            .Where(j => string.IsNullOrEmpty(kind) || string.Equals(j.Kind, kind, StringComparison.Ordinal))
            .Where(j => string.IsNullOrEmpty(requested_by) || string.Equals(j.RequestedBy, requested_by, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var items = filtered.Skip((pageNo - 1) * perPage).Take(perPage).Select(j => j.ToView()).ToArray();
        return TypedResults.Ok(new PageOf<JobView>(items, filtered.Count, pageNo, perPage));
    }

    public static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string jobId, IGrainFactory grains, int? wait_seconds = null, long? version = null)
    {
        if (wait_seconds is < 0 or > 60)
        {
            var errors = new FieldErrors();
            errors.Add("wait_seconds", "must be between 0 and 60");
            return errors.ToProblem();
        }

        if (JobIds.ServerOf(jobId) is not { } serverId)
        {
            return Problem.NotFound($"job '{jobId}' not found: job ids look like <server id>-job-<n>");
        }

        var jobs = grains.GetGrain<IServerJobsGrain>(serverId);
        var job = wait_seconds is > 0
            ? await jobs.WaitForJobChangeAsync(jobId, version ?? -1, TimeSpan.FromSeconds(wait_seconds.Value))
            : await jobs.GetJobAsync(jobId);
        return job is null ? Problem.NotFound($"job '{jobId}' not found") : TypedResults.Ok(job.ToView());
    }

    /// <summary>How often an idle event stream sends a <c>ping</c> event (keeps proxies and clients from timing out).</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Server-sent events of one server's jobs (<c>event: job</c>, data: <see cref="JobEventView"/>; <c>event: ping</c> when
    /// idle), from the subscription on: what happened before is read with GET /jobs. A <c>ping</c> comes first, as soon as
    /// the subscription is in place, so the response starts at once and a client knows from when it sees every event.
    /// Ends when the client goes away.
    /// </summary>
    public static async Task<Results<ServerSentEventsResult<JobEventView>, ValidationProblem, ProblemHttpResult>> EventsAsync(
        IGrainFactory grains, IClusterClient cluster, string? server = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            var errors = new FieldErrors();
            errors.Add("server", "is required: the server whose job events to follow");
            return errors.ToProblem();
        }

        if (await grains.GetGrain<IManagedServerGrain>(server).GetAsync() is null)
        {
            return Problem.NotFound($"server '{server}' not found");
        }

        var events = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        var stream = cluster.GetStreamProvider(StreamNames.EventsProvider).GetStream<JobEvent>(StreamId.Create(StreamNames.JobEventsNamespace, server));
        var subscription = await stream.SubscribeAsync((item, _) =>
        {
            events.Writer.TryWrite(item);
            return Task.CompletedTask;
        });
        return TypedResults.ServerSentEvents(ReadAsync(events.Reader, subscription, cancellationToken));
    }

    private static async IAsyncEnumerable<SseItem<JobEventView>> ReadAsync(
        ChannelReader<JobEvent> events, StreamSubscriptionHandle<JobEvent> subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            yield return new SseItem<JobEventView>(null!, "ping"); // starts the response: subscribed from here on
            while (!cancellationToken.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                idle.CancelAfter(KeepAlive);
                JobEvent? item = null;
                try
                {
                    item = await events.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                if (item is null)
                {
                    yield return new SseItem<JobEventView>(null!, "ping");
                    continue;
                }

                yield return new SseItem<JobEventView>(item.ToView(), "job") { EventId = item.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }

    /// <summary>A listed server's jobs; none when it was deleted after the index named it.</summary>
    private static async Task<ImmutableArray<JobSnapshot>> JobsOfAsync(IServerJobsGrain jobs)
    {
        try
        {
            return await jobs.ListJobsAsync();
        }
        catch (NotFoundException)
        {
            return [];
        }
    }
}
