using System.Globalization;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

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
        if (request.IdempotencyKey is { } key && JobLog.Jobs.Find(j => j.IdempotencyKey == key) is { } existing)
        {
            return existing.Kind == request.Kind && existing.Service == request.Service
                ? ToSnapshot(existing)
                : throw new ConflictException($"idempotency key '{key}' was used for job {existing.Id} ({Describe(existing.Kind, existing.Service)}); use a new key for a different action");
        }

        var kind = CheckFits(definition, request);
        var listenChange = kind == JobKind.UpdateService ? ListenChangeOf(request) : null;
        var dnsPlan = kind is JobKind.PushConfig or JobKind.PushZones or JobKind.RevertConfig || listenChange is not null
            ? await PlanDnsApplyAsync(kind, request, listenChange)
            : default;
        var now = time.GetUtcNow();
        var job = new JobEntry
        {
            Id = JobIds.Of(Id, ++JobLog.LastJobNumber),
            Kind = kind,
            Service = request.Service,
            State = JobState.Queued,
            CreatedAt = now,
            Deadline = now + (request.WaitForAgent ?? _options.JobAgentWait),
            IdempotencyKey = request.IdempotencyKey,
            RequestedBy = Caller.Current,
        };
        JobLog.Jobs.Add(job);
        Step(job, $"queued: {Describe(kind, request.Service)}");

        if (Record.Certificates.Count == 0 && Record.AgentVersion is null)
        {
            Fail(job, $"server '{definition.Name}' has no agent: it never enrolled. Install the agent with the server's setup bundle (GET /api/v1/servers/{Id}/setup-bundle), then run the action again");
            TrimJobHistory();
            await SaveJobsAsync();
            return ToSnapshot(job);
        }

        if (dnsPlan.Plan is not null)
        {
            Step(job, dnsPlan.Plan);
        }

        var (commandKind, args) = dnsPlan.ArgsJson is not null ? (CommandKinds.DnsApply, dnsPlan.ArgsJson) : CommandFor(job, request, definition);
        var command = QueueCommand(commandKind, args, job.Deadline - now);
        (job.CommandId, job.CommandKind, job.CommandArgsJson) = (command.CommandId, commandKind, args);
        if (_tracker.State != ServerState.Running)
        {
            Step(job, $"the agent is {Wire(_tracker.State)}{LastHeard()}; the job waits until {job.Deadline.ToString("u", CultureInfo.InvariantCulture)} for it");
        }

        TrimJobHistory();
        await SaveJobsAsync(); // the job first: see RecoverJobCommandsAsync
        await SaveAsync();
        await DispatchQueuedCommandsAsync();
        await PushToIndexAsync();
        EnsureJobTimer();
        LogJobStarted(logger, Id, job.Id, kind);
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

    /// <summary>Checks that the action fits the server; turns "add" of an installed service into an update.</summary>
    private JobKind CheckFits(ServerDefinition definition, JobRequest request)
    {
        if (request.Kind is JobKind.Diagnostics or JobKind.DebugBundle)
        {
            return request.Kind;
        }

        if (request.Kind is JobKind.PushConfig or JobKind.PushZones or JobKind.RevertConfig)
        {
            CheckDnsFits(definition);
            return request.Kind;
        }

        var service = request.Service ?? throw new ConflictException("a service job names its service (dns, dhcp4 or dhcp6)");
        var fits = definition.Kind switch
        {
            ServerKind.Dns => service == ServiceKinds.Dns,
            ServerKind.Dhcp => service is ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6,
            _ => false,
        };
        if (!fits)
        {
            var allowed = definition.Kind switch
            {
                ServerKind.Dns => "a DNS server runs the dns service",
                ServerKind.Dhcp => "a DHCP server runs dhcp4 and dhcp6",
                _ => "a backup server runs no DNS or DHCP service",
            };
            throw new ConflictException($"service '{service}' does not fit server '{definition.Name}': {allowed}") { Field = "kind" };
        }

        var installed = Record.Services.Exists(s => s.Kind == service);
        return request.Kind switch
        {
            JobKind.AddService or JobKind.UpdateService => installed ? JobKind.UpdateService : JobKind.AddService,
            _ when !installed => throw new NotFoundException($"service '{service}' is not installed on server '{definition.Name}': add it first (POST /api/v1/servers/{Id}/services)"),
            _ => request.Kind,
        };
    }

    private (string Kind, string? ArgsJson) CommandFor(JobEntry job, JobRequest request, ServerDefinition definition)
    {
        // A DNS service keeps its listen entries across updates unless the request names new ones.
        IReadOnlyList<string>? listen = job.Service != ServiceKinds.Dns ? null : RequestedListen(request) ?? (DnsConfig.Listen.Count > 0 ? [.. DnsConfig.Listen] : null);
        string Action() => JsonSerializer.Serialize(new ServiceActionArgs(job.Service!), ContractsJson.Default.ServiceActionArgs);
        if (job.Kind is JobKind.AddService && definition.Runtime == AgentRuntime.Auto)
        {
            Step(job, "runtime: the agent chooses (docker where its Docker engine answers, else exec); the server keeps its choice");
        }

        return job.Kind switch
        {
            JobKind.AddService or JobKind.UpdateService => (CommandKinds.ServiceInstall, JsonSerializer.Serialize(
                new ServiceInstallArgs(job.Service!, Wire(definition.Runtime), request.Version, request.ListenAddress, request.Port, listen),
                ContractsJson.Default.ServiceInstallArgs)),
            JobKind.StartService => (CommandKinds.ServiceStart, Action()),
            JobKind.StopService => (CommandKinds.ServiceStop, Action()),
            JobKind.RestartService => (CommandKinds.ServiceRestart, Action()),
            JobKind.RemoveService => (CommandKinds.ServiceRemove, Action()),
            JobKind.Diagnostics => (CommandKinds.Diagnostics, null),
            JobKind.DebugBundle => (CommandKinds.DebugBundle, JsonSerializer.Serialize(new DebugBundleArgs(), ContractsJson.Default.DebugBundleArgs)),
            _ => throw new ArgumentOutOfRangeException(nameof(job), job.Kind, "unknown job kind"),
        };
    }

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
    private bool OnJobResult(CommandResult result, string? output)
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

        if (!result.Success)
        {
            if (job.CommandKind == CommandKinds.DnsApply)
            {
                OnDnsApplyFailed(job, output);
            }
            else if (output is not null && job.Kind is not (JobKind.Diagnostics or JobKind.DebugBundle))
            {
                AddAgentSteps(job, output);
            }

            Fail(job, $"the agent failed: {result.Error ?? "no reason given"}");
            return true;
        }

        try
        {
            switch (job.Kind)
            {
                case JobKind.Diagnostics:
                    OnDiagnostics(job, output);
                    break;
                case JobKind.DebugBundle:
                    OnDebugBundle(job, output);
                    break;
                case var _ when job.CommandKind == CommandKinds.DnsApply: // pushes, reverts, listen changes
                    if (OnDnsApplyResult(job, output) is { Count: > 0 } refused)
                    {
                        // The rest is live; the push did not do all it was asked: a failure that names the zones.
                        Fail(job, $"{string.Join("; ", refused.Select(r => $"zone {r.Zone} refused, knotd would not load it: {r.Reason}"))}; the other zones were applied (configuration version {DnsConfig.LiveVersion} is live)");
                        return true;
                    }

                    break;
                default:
                    OnServiceResult(job, output);
                    break;
            }

            Succeed(job);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            Fail(job, $"the agent's answer could not be read: {e.Message}");
        }

        return true;
    }

    private void OnServiceResult(JobEntry job, string? output)
    {
        var parsed = output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.ServiceCommandOutput);
        if (parsed is not null)
        {
            AddAgentSteps(job, parsed.Steps);
        }

        SetService(job.Service!, job.Kind == JobKind.RemoveService ? null : parsed?.Service);
        OnDnsServiceResult(job);
        job.ResultJson = parsed?.Service is { } s ? JsonSerializer.Serialize(s, ContractsJson.Default.ServiceStatus) : null;
    }

    private void OnDiagnostics(JobEntry job, string? output)
    {
        var report = output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.DiagnosticsReport)
            ?? throw new InvalidOperationException("no report");
        if (report is not null)
        {
            int Count(string status) => report.Checks.Count(c => c.Status == status);
            Step(job, $"{report.Checks.Count} checks: {Count(CheckStatuses.Pass)} pass, {Count(CheckStatuses.Warn)} warn, {Count(CheckStatuses.Fail)} fail");
        }

        job.ResultJson = output;
    }

    private void OnDebugBundle(JobEntry job, string? output)
    {
        var bundle = (output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.DebugBundleOutput))
            ?? throw new InvalidOperationException("no bundle");
        var bytes = Convert.FromBase64String(bundle.BundleBase64);
        var now = time.GetUtcNow();
        foreach (var old in _bundles.Where(b => now - b.Value.At > _options.DebugBundleHold).Select(b => b.Key).ToList())
        {
            _bundles.Remove(old);
        }

        _bundles[job.Id] = (bytes, now);
        var summary = JsonSerializer.Serialize(bundle with { BundleBase64 = string.Empty }, ContractsJson.Default.DebugBundleOutput);
        Step(job, $"bundle of {bytes.Length:N0} bytes, {bundle.Files.Count} files{(bundle.Truncated ? ", truncated to stay within bounds" : string.Empty)}");
        job.ResultJson = summary;
    }

    private void AddAgentSteps(JobEntry job, string output)
    {
        try
        {
            if (JsonSerializer.Deserialize(output, ContractsJson.Default.ServiceCommandOutput) is { } parsed)
            {
                AddAgentSteps(job, parsed.Steps);
            }
        }
        catch (JsonException)
        {
        }
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
                Fail(job, $"the agent did not take the job before {job.Deadline.ToString("u", CultureInfo.InvariantCulture)}: it is {Wire(_tracker.State)}{LastHeard()}");
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

    /// <summary>A finished dns.apply job no longer needs its arguments (they may carry inline zone files): not kept in the history.</summary>
    private static void ForgetDnsArgs(JobEntry job)
    {
        if (job.CommandKind == CommandKinds.DnsApply)
        {
            job.CommandArgsJson = null;
        }
    }

    private void Succeed(JobEntry job)
    {
        ForgetDnsArgs(job);
        job.State = JobState.Succeeded;
        job.Progress = 100;
        job.FinishedAt = time.GetUtcNow();
        job.StartedAt ??= job.FinishedAt;
        Step(job, "succeeded");
        LogJobFinished(logger, Id, job.Id, job.Kind, job.State, null);
    }

    private void Fail(JobEntry job, string error)
    {
        ForgetDnsArgs(job);
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

    private static string Wire<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static string Describe(JobKind kind, string? service) => kind switch
    {
        JobKind.AddService => $"add service {service}",
        JobKind.UpdateService => $"update service {service}",
        JobKind.StartService => $"start service {service}",
        JobKind.StopService => $"stop service {service}",
        JobKind.RestartService => $"restart service {service}",
        JobKind.RemoveService => $"remove service {service}",
        JobKind.Diagnostics => "run diagnostics",
        JobKind.DebugBundle => "collect a debug bundle",
        JobKind.PushConfig => "push the DNS configuration",
        JobKind.PushZones => "push the zones",
        JobKind.RevertConfig => "re-apply an earlier DNS configuration",
        _ => kind.ToString(),
    };

    [LoggerMessage(EventId = 1042, Level = LogLevel.Warning, Message = "Server {ServerId}: queued again the command of a job whose silo was lost between writing the job and its command")]
    private static partial void LogJobCommandsRecovered(ILogger logger, string serverId);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Server {ServerId}: job {JobId} ({Kind}) queued")]
    private static partial void LogJobStarted(ILogger logger, string serverId, string jobId, JobKind kind);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Information, Message = "Server {ServerId}: job {JobId} ({Kind}) {State} {Error}")]
    private static partial void LogJobFinished(ILogger logger, string serverId, string jobId, JobKind kind, JobState state, string? error);
}
