using System.Text.Json;

namespace ManagedServers.Api.Infrastructure;

/// <summary>Jobs and services to REST views.</summary>
public static class JobMapping
{
    public static JobView ToView(this JobSnapshot j) => new(
        j.Id,
        j.ServerId,
        j.Kind,
        j.Service,
        ServerMapping.Wire(j.State),
        j.Progress,
        j.CreatedAt,
        j.StartedAt,
        j.FinishedAt,
        j.Deadline,
        j.Steps.Select(s => new JobStepView(s.At, s.Message)).ToArray(),
        j.ResultJson is null ? null : JsonDocument.Parse(j.ResultJson).RootElement.Clone(),
        j.Error,
        j.IdempotencyKey,
        j.Version,
        j.RequestedBy);

    public static JobEventView ToView(this JobEvent e) => new(
        e.JobId, e.ServerId, e.Kind, e.Service, ServerMapping.Wire(e.Type), ServerMapping.Wire(e.State), e.Progress, e.Message, e.At, e.RequestedBy, e.Version);

    public static ServiceView ToView(this ServiceSnapshot s) => new(s.Kind, s.State, s.Since, s.RestartCount, s.Version, s.Runtime, s.Error, s.Listen);
}

/// <summary>Waiting on a job without holding a grain: short waits on the grain's change signal, until done or out of time.</summary>
public static class JobWaiting
{
    private static readonly TimeSpan Slice = TimeSpan.FromSeconds(20);

    public static async Task<JobSnapshot> UntilFinishedAsync(IServerJobsGrain jobs, JobSnapshot job, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (!job.Finished && !cancellationToken.IsCancellationRequested)
        {
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            job = await jobs.WaitForJobChangeAsync(job.Id, job.Version, remaining < Slice ? remaining : Slice) ?? job;
        }

        return job;
    }
}
