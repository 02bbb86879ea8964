using System.Globalization;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Servers.Jobs;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// The server's workflow: each action is a persisted job carried to the agent by one command. The job is saved together
/// with its command before anything is delivered, so a silo lost at any point resumes it on the next activation (the
/// agent's long poll, its heartbeat or the liveness reminder brings the grain back) and the agent, which applies a
/// command id once, answers a redelivery with the result it already has. Deadlines are checked by a grain timer while
/// jobs are active and by the liveness reminder after a silo loss.
/// </summary>
public sealed partial class ManagedServerGrain : IServerJobsGrain
{
    private readonly Dictionary<string, (byte[] Bytes, DateTimeOffset At)> _bundles = [];
    private TaskCompletionSource _jobsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _jobTimer;
    private bool _jobsDirty;

    /// <summary>The agent's completion time of the result being handled (see <see cref="ObserveServices"/>).</summary>
    private DateTimeOffset _resultCompletedAt;

    private ServerJobsState JobLog => jobsStore.State;

    private JobContextOfGrain JobContext => _jobContext ??= new(this);

    private JobContextOfGrain? _jobContext;

    private EventAnnouncer<JobEvent>? _jobEventAnnouncer;

    /// <summary>The server's job event stream (see <see cref="JobEvent"/>).</summary>
    private EventAnnouncer<JobEvent> JobEvents => _jobEventAnnouncer ??= new(
        () => this.GetStreamProvider(StreamNames.EventsProvider).GetStream<JobEvent>(StreamId.Create(StreamNames.JobEventsNamespace, Id)),
        logger);

    private async Task SaveJobsAsync()
    {
        await jobsStore.WriteStateAsync();
        _jobsDirty = false;
    }

    /// <summary>
    /// A job is written before its command: a silo lost between the two writes leaves an active job whose command the
    /// server state does not have. It is queued again with the same id (the agent applies an id once).
    /// </summary>
    private async Task RecoverJobCommandsAsync()
    {
        var recovered = false;
        foreach (var job in JobLog.Jobs.Where(j => !j.Finished && j.CommandId is not null && j.CommandKind is not null))
        {
            if (!Record.Commands.Exists(c => c.CommandId == job.CommandId))
            {
                Record.Commands.Add(new CommandEntry
                {
                    CommandId = job.CommandId!,
                    Kind = job.CommandKind!,
                    ArgsJson = job.CommandArgsJson,
                    CreatedAt = job.CreatedAt,
                    ExpiresAt = job.Deadline,
                    State = CommandState.Queued,
                });
                recovered = true;
            }
        }

        if (recovered)
        {
            LogJobCommandsRecovered(logger, Id);
            await SaveAsync();
            await DispatchQueuedCommandsAsync();
        }
    }

    public async Task<JobSnapshot> StartJobAsync(JobRequest request)
    {
        var definition = RequireDefinition();
        var handler = jobHandlers.ForKind(request.Kind)
            ?? throw new ConflictException($"unknown job kind '{request.Kind}' (known: {string.Join(", ", jobHandlers.Kinds.Order(StringComparer.Ordinal))})") { Field = "kind" };
        if (request.IdempotencyKey is { } key && JobLog.Jobs.Find(j => j.IdempotencyKey == key) is { } existing)
        {
            return (existing.RequestedKind ?? existing.Kind) == request.Kind && existing.Service == request.Service
                ? ToSnapshot(existing)
                : throw new ConflictException($"idempotency key '{key}' was used for job {existing.Id} ({jobHandlers.Describe(existing.Kind, existing.Service)}); use a new key for a different action");
        }

        var plan = await handler.PlanAsync(JobContext, request); // throws (nothing stored) when the job does not fit
        var now = time.GetUtcNow();
        var job = new JobEntry
        {
            Id = JobIds.Of(Id, ++JobLog.LastJobNumber),
            Kind = plan.Kind,
            RequestedKind = plan.Kind == request.Kind ? null : request.Kind,
            Service = request.Service,
            State = JobState.Queued,
            CreatedAt = now,
            Deadline = now + (request.WaitForAgent ?? _options.JobAgentWait),
            IdempotencyKey = request.IdempotencyKey,
            RequestedBy = Caller.Current,
        };
        JobLog.Jobs.Add(job);
        Step(job, $"queued: {jobHandlers.Describe(plan.Kind, request.Service)}");

        if (Record.Certificates.Count == 0 && Record.AgentVersion is null)
        {
            Fail(job, $"server '{definition.Name}' has no agent: it never enrolled. Install the agent with the server's setup bundle (GET /api/v1/servers/{Id}/setup-bundle), then run the action again");
            TrimJobHistory();
            await SaveJobsAsync();
            return ToSnapshot(job);
        }

        foreach (var step in plan.Steps)
        {
            Step(job, step);
        }

        var command = QueueCommand(plan.CommandKind, plan.CommandArgsJson, job.Deadline - now);
        (job.CommandId, job.CommandKind, job.CommandArgsJson) = (command.CommandId, plan.CommandKind, plan.CommandArgsJson);
        if (_tracker.State != ServerState.Running)
        {
            Step(job, $"the agent is {ContractsJson.WireName(_tracker.State)}{LastHeard()}; the job waits until {job.Deadline.ToString("u", CultureInfo.InvariantCulture)} for it");
        }

        TrimJobHistory();
        await SaveJobsAsync(); // the job first: see RecoverJobCommandsAsync
        await SaveAsync();
        await DispatchQueuedCommandsAsync();
        await PushToIndexAsync();
        EnsureJobTimer();
        LogJobStarted(logger, Id, job.Id, job.Kind);
        return ToSnapshot(job);
    }

    public Task<JobSnapshot?> GetJobAsync(string jobId) =>
        Task.FromResult(JobLog.Jobs.Find(j => j.Id == jobId) is { } job ? ToSnapshot(job) : null);

    public Task<ImmutableArray<JobSnapshot>> ListJobsAsync()
    {
        RequireDefinition();
        return Task.FromResult(JobLog.Jobs.AsEnumerable().Reverse().Select(ToSnapshot).ToImmutableArray());
    }

    public async Task<JobSnapshot?> WaitForJobChangeAsync(string jobId, long seenVersion, TimeSpan wait)
    {
        var deadline = time.GetUtcNow() + wait;
        while (JobLog.Jobs.Find(j => j.Id == jobId) is { } job)
        {
            var remaining = deadline - time.GetUtcNow();
            if (job.Version > seenVersion || job.Finished || remaining <= TimeSpan.Zero)
            {
                return ToSnapshot(job);
            }

            try
            {
                await _jobsChanged.Task.WaitAsync(remaining, time);
            }
            catch (TimeoutException)
            {
            }
            catch (TaskCanceledException)
            {
                return ToSnapshot(job);
            }
        }

        return null;
    }

    public Task<byte[]?> GetDebugBundleAsync(string jobId) =>
        Task.FromResult(_bundles.TryGetValue(jobId, out var bundle) ? bundle.Bytes : null);

    /// <summary>The command reached the agent (long poll answered or broker confirmed): the job runs.</summary>
    private void OnCommandDelivered(string commandId)
    {
        if (JobLog.Jobs.Find(j => j.CommandId == commandId && j.State == JobState.Queued) is not { } job)
        {
            return;
        }

        job.State = JobState.Running;
        job.StartedAt ??= time.GetUtcNow();
        job.Progress = Math.Max(job.Progress, 10);
        Step(job, UsesAmqp ? "in the agent's queue on the broker (it takes it when it is online)" : "delivered to the agent");
        _jobsDirty = true;
    }

    /// <summary>The agent's poll ended before it took the command: the job waits for its next poll.</summary>
    private void OnCommandReleased(string commandId)
    {
        if (JobLog.Jobs.Find(j => j.CommandId == commandId && j.State == JobState.Running) is { } job)
        {
            job.State = JobState.Queued;
            Step(job, "the agent's poll ended before it took the job; it goes out at the agent's next poll");
            _jobsDirty = true;
        }
    }

    /// <summary>The agent's result for a job's command: true when a job took it (then the job keeps the output).</summary>
    private async Task<bool> OnJobResultAsync(CommandResult result, string? output)
    {
        _resultCompletedAt = result.CompletedAt;
        if (JobLog.Jobs.Find(j => j.CommandId == result.CommandId) is not { } job)
        {
            return false;
        }

        if (job.Finished)
        {
            return true;
        }

        var handler = jobHandlers.ForResult(job);
        if (!result.Success)
        {
            if (handler is not null)
            {
                await handler.OnFailedAsync(JobContext, job, output);
            }

            Fail(job, $"the agent failed: {result.Error ?? "no reason given"}");
            return true;
        }

        try
        {
            if (handler is null)
            {
                Fail(job, $"no handler for job kind '{job.Kind}' in this silo (a silo of another version started it?)");
            }
            else if (await handler.OnSucceededAsync(JobContext, job, output) is { } error)
            {
                Fail(job, error); // the agent did part of it: the error says what is live
            }
            else
            {
                Succeed(job);
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            Fail(job, $"the agent's answer could not be read: {e.Message}");
        }

        return true;
    }

    /// <summary>Logs the agent's steps the job has not logged yet (heartbeat progress may have logged the first ones).</summary>
    private void AddAgentSteps(JobEntry job, IReadOnlyList<string>? steps)
    {
        foreach (var step in (steps ?? []).Skip(job.AgentStepsLogged))
        {
            Step(job, "agent: " + step);
        }

        job.AgentStepsLogged = Math.Max(job.AgentStepsLogged, steps?.Count ?? 0);
    }

    /// <summary>
    /// Commands the agent reports running in its heartbeat: their new steps go into the job's log and the progress
    /// moves (below 100 until the result). Saved by the job timer, not per heartbeat.
    /// </summary>
    private void ObserveProgress(IReadOnlyList<CommandProgress>? running)
    {
        foreach (var progress in running ?? [])
        {
            if (JobLog.Jobs.Find(j => j.CommandId == progress.CommandId && !j.Finished) is not { } job)
            {
                continue;
            }

            var before = job.Version;
            if (job.State == JobState.Queued)
            {
                job.State = JobState.Running;
                job.StartedAt ??= time.GetUtcNow();
            }

            AddAgentSteps(job, progress.Steps);
            var percent = Math.Clamp(progress.Percent, job.Progress, 95);
            if (percent != job.Progress)
            {
                job.Progress = percent;
                Changed(job);
            }

            _jobsDirty |= job.Version != before;
        }
    }

    /// <summary>
    /// Services as the agent reports them in a heartbeat; true when anything changed (then the caller saves). A heartbeat
    /// the agent sent before the result of a service job (both by the agent's clock) is older news than that result: a
    /// heartbeat built just before an install finished must not take the new service away again.
    /// </summary>
    private bool ObserveServices(IReadOnlyList<ServiceStatus>? reported, DateTimeOffset sentAt)
    {
        // (More than 5 min older: the agent's clock went back; take it rather than ignore the agent until it catches up.)
        if (reported is null || (Record.ServicesReportedAt is { } last && sentAt < last && last - sentAt < TimeSpan.FromMinutes(5)))
        {
            return false;
        }

        Record.ServicesReportedAt = sentAt;

        var services = reported.Select(ToSnapshot).ToList();
        if (services.OrderBy(s => s.Kind, StringComparer.Ordinal).SequenceEqual(Record.Services))
        {
            return false;
        }

        SetServices(services);
        return true;
    }

    /// <summary>One service as the agent's result reports it (null: gone), as of the result's completion time.</summary>
    private void SetService(string kind, ServiceStatus? status)
    {
        // A new list (not changed in place): callers compare the old one with it.
        var services = Record.Services.Where(s => s.Kind != kind).ToList();
        if (status is not null)
        {
            services.Add(ToSnapshot(status));
        }

        SetServices(services);
        if (Record.ServicesReportedAt is not { } reported || reported < _resultCompletedAt)
        {
            Record.ServicesReportedAt = _resultCompletedAt;
        }
    }

    /// <summary>The server's services (sorted by kind), and the record's dns/dhcp4/dhcp6 versions, which follow them.</summary>
    private void SetServices(List<ServiceSnapshot> services)
    {
        services.Sort((a, b) => string.CompareOrdinal(a.Kind, b.Kind));
        Record.Services = services;

        // A server on the "auto" runtime keeps the one its agent chose at the first install.
        if (Record.Definition is { Runtime: AgentRuntime.Auto } definition
            && services.Select(s => s.Runtime).FirstOrDefault(r => r is RuntimeNames.Docker or RuntimeNames.Exec) is { } chosen)
        {
            Record.Definition = definition with { Runtime = chosen == RuntimeNames.Docker ? AgentRuntime.Docker : AgentRuntime.Exec };
        }

        string? VersionOf(string kind) => services.Find(x => x.Kind == kind)?.Version;
        Record.Versions = Record.Versions with { Dns = VersionOf(ServiceKinds.Dns), Dhcp4 = VersionOf(ServiceKinds.Dhcp4), Dhcp6 = VersionOf(ServiceKinds.Dhcp6) };
    }

    private static ServiceSnapshot ToSnapshot(ServiceStatus s) => new(s.Kind, s.State, s.Since, s.RestartCount, s.Version, s.Runtime, s.Error, s.Listen);

    /// <summary>Fails jobs past their deadline; called by the job timer and the liveness reminder.</summary>
    private async Task CheckJobsAsync()
    {
        var now = time.GetUtcNow();
        var failed = false;
        foreach (var job in JobLog.Jobs.Where(j => !j.Finished).ToList())
        {
            if (job.State == JobState.Queued && now >= job.Deadline)
            {
                Fail(job, $"the agent did not take the job before {job.Deadline.ToString("u", CultureInfo.InvariantCulture)}: it is {ContractsJson.WireName(_tracker.State)}{LastHeard()}");
                ExpireCommand(job.CommandId);
                failed = true;
            }
            else if (job.State == JobState.Running && job.StartedAt is { } started && now >= ResultDue(job, started))
            {
                Fail(job, $"the agent took the job at {started.ToString("u", CultureInfo.InvariantCulture)} but reported no result within {_options.JobExecutionTimeout.TotalMinutes:0.#} min; run diagnostics or fetch a debug bundle");
                ExpireCommand(job.CommandId);
                failed = true;
            }
        }

        if (failed || _jobsDirty)
        {
            await SaveJobsAsync();
        }

        if (failed)
        {
            await SaveAsync(); // the expired commands
            await PushToIndexAsync();
        }

        if (!JobLog.Jobs.Exists(j => !j.Finished))
        {
            _jobTimer?.Dispose();
            _jobTimer = null;
        }
    }

    /// <summary>
    /// When the agent's result is overdue: the execution timeout after delivery — for AMQP agents after the job's deadline
    /// at the latest, since a command in the agent's broker queue may be taken only then (the agent refuses it after).
    /// </summary>
    private DateTimeOffset ResultDue(JobEntry job, DateTimeOffset started) =>
        (UsesAmqp && job.Deadline > started ? job.Deadline : started) + _options.JobExecutionTimeout;

    private void ExpireCommand(string? commandId)
    {
        if (Record.Commands.Find(c => c.CommandId == commandId) is { State: CommandState.Queued or CommandState.Delivered } command)
        {
            command.State = CommandState.Expired;
            command.CompletedAt = time.GetUtcNow();
            command.Error = "the job it carried failed";
        }
    }

    private void EnsureJobTimer()
    {
        if (_jobTimer is not null || !JobLog.Jobs.Exists(j => !j.Finished))
        {
            return;
        }

        _jobTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.CheckJobsAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = _options.JobTimerPeriod, Period = _options.JobTimerPeriod, Interleave = false, KeepAlive = true });
    }

    /// <summary>The agent came back: say so in the jobs that wait for it.</summary>
    private void OnAgentBack()
    {
        foreach (var job in JobLog.Jobs.Where(j => j.State == JobState.Queued))
        {
            Step(job, "the agent is back");
        }
    }

    private void Step(JobEntry job, string message)
    {
        job.Steps.Add(new JobStep(time.GetUtcNow(), message));
        Changed(job, job.State switch
        {
            JobState.Succeeded => JobEventType.Succeeded,
            JobState.Failed => JobEventType.Failed,
            _ when job.Steps.Count == 1 => JobEventType.Queued,
            _ => JobEventType.Step,
        }, message);
    }

    /// <summary>A finished job whose handler says so no longer keeps its command's arguments (they may carry inline zone files).</summary>
    private void ForgetArguments(JobEntry job)
    {
        if (jobHandlers.ForResult(job) is { DropsArgumentsWhenDone: true })
        {
            job.CommandArgsJson = null;
        }
    }

    private void Succeed(JobEntry job)
    {
        ForgetArguments(job);
        job.State = JobState.Succeeded;
        job.Progress = 100;
        job.FinishedAt = time.GetUtcNow();
        job.StartedAt ??= job.FinishedAt;
        Step(job, "succeeded");
        LogJobFinished(logger, Id, job.Id, job.Kind, job.State, null);
    }

    private void Fail(JobEntry job, string error)
    {
        ForgetArguments(job);
        job.State = JobState.Failed;
        job.Error = error;
        job.FinishedAt = time.GetUtcNow();
        Step(job, "failed: " + error);
        LogJobFinished(logger, Id, job.Id, job.Kind, job.State, error);
    }

    private void Changed(JobEntry job, JobEventType type = JobEventType.Progress, string? message = null)
    {
        job.Version++;
        var previous = _jobsChanged;
        _jobsChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
        JobEvents.Announce(new JobEvent(
            job.Id, Id, job.Kind, job.Service, type, job.State, job.Progress, message, time.GetUtcNow(), job.RequestedBy, job.Version));
    }

    private void TrimJobHistory()
    {
        var finished = JobLog.Jobs.Count(j => j.Finished);
        for (var i = 0; finished > _options.JobHistory && i < JobLog.Jobs.Count;)
        {
            if (JobLog.Jobs[i].Finished)
            {
                _bundles.Remove(JobLog.Jobs[i].Id);
                JobLog.Jobs.RemoveAt(i);
                finished--;
            }
            else
            {
                i++;
            }
        }
    }

    private JobSnapshot ToSnapshot(JobEntry j) => new(
        j.Id, Id, j.Kind, j.Service, j.State, j.Progress, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Deadline,
        [.. j.Steps], j.ResultJson, j.Error, j.IdempotencyKey, j.Version, j.RequestedBy);

    private string LastHeard() => _tracker.LastHeartbeat is { } last
        ? $" (last heartbeat {last.ToString("u", CultureInfo.InvariantCulture)})"
        : " (no heartbeat yet)";

    /// <summary>Keeps a job's bytes (a debug bundle) for <see cref="ServerGrainOptions.DebugBundleHold"/>, dropping older ones.</summary>
    private void Attach(JobEntry job, byte[] bytes)
    {
        var now = time.GetUtcNow();
        foreach (var old in _bundles.Where(b => now - b.Value.At > _options.DebugBundleHold).Select(b => b.Key).ToList())
        {
            _bundles.Remove(old);
        }

        _bundles[job.Id] = (bytes, now);
    }

    /// <summary>What job handlers see of this server (one per activation; every call is on the grain's turn).</summary>
    private sealed class JobContextOfGrain(ManagedServerGrain grain) : IJobContext
    {
        public string ServerId => grain.Id;

        public ServerDefinition Definition => grain.RequireDefinition();

        public IReadOnlyList<ServiceSnapshot> Services => grain.Record.Services;

        public IEnumerable<T> Features<T>()
            where T : class => grain.Features<T>();

        public void Step(JobEntry job, string message) => grain.Step(job, message);

        public void AddAgentSteps(JobEntry job, IReadOnlyList<string>? steps) => grain.AddAgentSteps(job, steps);

        public void SetService(string kind, ServiceStatus? status) => grain.SetService(kind, status);

        public void Attach(JobEntry job, byte[] bytes) => grain.Attach(job, bytes);
    }

    [LoggerMessage(EventId = 1042, Level = LogLevel.Warning, Message = "Server {ServerId}: queued again the command of a job whose silo was lost between writing the job and its command")]
    private static partial void LogJobCommandsRecovered(ILogger logger, string serverId);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Server {ServerId}: job {JobId} ({Kind}) queued")]
    private static partial void LogJobStarted(ILogger logger, string serverId, string jobId, string kind);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Information, Message = "Server {ServerId}: job {JobId} ({Kind}) {State} {Error}")]
    private static partial void LogJobFinished(ILogger logger, string serverId, string jobId, string kind, JobState state, string? error);
}
