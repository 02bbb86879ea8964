using ManagedServers.Grains.Interfaces.Operations;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Operations;

/// <summary>Persisted operation: its plan, each step's state and job, who asked, when.</summary>
[GenerateSerializer, Alias("ms.OperationRecord")]
public sealed class OperationRecord
{
    [Id(0)]
    public OperationPlan? Plan { get; set; }

    [Id(1)]
    public List<OperationStepRecord> Steps { get; set; } = [];

    [Id(2)]
    public OperationState State { get; set; }

    [Id(3)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(4)]
    public DateTimeOffset? FinishedAt { get; set; }

    [Id(5)]
    public string RequestedBy { get; set; } = Caller.System;

    [Id(6)]
    public long Version { get; set; }
}

[GenerateSerializer, Alias("ms.OperationStepRecord")]
public sealed class OperationStepRecord
{
    [Id(0)]
    public OperationStepState State { get; set; }

    [Id(1)]
    public string? JobId { get; set; }

    [Id(2)]
    public string? Error { get; set; }
}

/// <inheritdoc cref="IOperationGrain"/>
public sealed partial class OperationGrain(
    [PersistentState("operation", GrainNames.Storage)] IPersistentState<OperationRecord> store,
    TimeProvider time,
    Microsoft.Extensions.Options.IOptions<ServerGrainOptions> options,
    ILogger<OperationGrain> logger)
    : Grain, IOperationGrain, IRemindable
{
    private const string Reminder = "operation";
    private static readonly TimeSpan TickPeriod = TimeSpan.FromSeconds(1);
    private IGrainTimer? _timer;

    private OperationRecord Record => store.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Record.Plan is not null && Record.State == OperationState.Running)
        {
            EnsureTimer();
        }

        return Task.CompletedTask;
    }

    public async Task<OperationSnapshot> StartAsync(OperationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (Record.Plan is not null)
        {
            return Snapshot()!;
        }

        if (plan.Steps.IsDefaultOrEmpty)
        {
            throw new ConflictException("an operation needs at least one step");
        }

        store.State = new OperationRecord
        {
            Plan = plan,
            Steps = [.. plan.Steps.Select(_ => new OperationStepRecord())],
            State = OperationState.Running,
            CreatedAt = time.GetUtcNow(),
            RequestedBy = Caller.Current,
            Version = 1,
        };
        await store.WriteStateAsync();

        // The reminder brings the operation back after a silo loss; the timer drives it while it is active.
        await this.RegisterOrUpdateReminder(Reminder, options.Value.OperationReminderPeriod, options.Value.OperationReminderPeriod);
        LogStarted(logger, this.GetPrimaryKeyString(), plan.Kind, plan.Steps.Length, Record.RequestedBy);
        await AdvanceAsync();
        EnsureTimer();
        return Snapshot()!;
    }

    public Task<OperationSnapshot?> GetAsync() => Task.FromResult(Snapshot());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Record.Plan is null || Record.State != OperationState.Running)
        {
            await UnregisterAsync(reminderName);
            return;
        }

        await AdvanceAsync();
        EnsureTimer();
    }

    /// <summary>
    /// Moves the plan on: the lowest stage with unfinished steps starts its pending steps (or skips those whose group
    /// failed) and reads its running jobs; a stage done lets the next one start at once.
    /// </summary>
    private async Task AdvanceAsync()
    {
        var plan = Record.Plan!;
        var changed = false;
        while (Record.State == OperationState.Running)
        {
            var open = Enumerable.Range(0, plan.Steps.Length).Where(i => Record.Steps[i].State is OperationStepState.Pending or OperationStepState.Running).ToList();
            if (open.Count == 0)
            {
                Finish();
                changed = true;
                break;
            }

            var stage = open.Min(i => plan.Steps[i].Stage);
            var current = open.Where(i => plan.Steps[i].Stage == stage).ToList();
            var moves = await Task.WhenAll(current.Select(MoveAsync));
            changed |= moves.Any(m => m);
            if (current.Any(i => Record.Steps[i].State is OperationStepState.Pending or OperationStepState.Running))
            {
                break;
            }
        }

        if (changed)
        {
            Record.Version++;
            await store.WriteStateAsync();
            if (Record.State != OperationState.Running)
            {
                _timer?.Dispose();
                _timer = null;
                await UnregisterAsync(Reminder);
                LogFinished(logger, this.GetPrimaryKeyString(), Record.State);
            }
        }
    }

    /// <summary>One step: started, skipped, or its job read. True when it changed.</summary>
    private async Task<bool> MoveAsync(int index)
    {
        var step = Record.Plan!.Steps[index];
        var record = Record.Steps[index];
        var jobs = GrainFactory.GetGrain<IServerJobsGrain>(step.ServerId);
        if (record.State == OperationStepState.Pending)
        {
            if (FailedInGroup(step.Group, index) is { } failed && (step.Mode != OperationStepMode.Always || OpenerSkipped(step, index)))
            {
                record.State = OperationStepState.Skipped;
                record.Error = $"skipped: {failed.Label} failed";
                return true;
            }

            try
            {
                Caller.Set(Record.RequestedBy);
                var job = await jobs.StartJobAsync(step.Job with { IdempotencyKey = $"{this.GetPrimaryKeyString()}/{index}" });
                record.JobId = job.Id;
                record.State = OperationStepState.Running;
                Read(record, job);
            }
            catch (Exception e) when (e is ConflictException or NotFoundException)
            {
                record.State = OperationStepState.Failed;
                record.Error = e.Message;
            }

            return true;
        }

        var snapshot = await jobs.GetJobAsync(record.JobId!);
        if (snapshot is null)
        {
            record.State = OperationStepState.Failed;
            record.Error = $"job {record.JobId} is no longer known (its server was deleted, or its job history trimmed)";
            return true;
        }

        return Read(record, snapshot);
    }

    private static bool Read(OperationStepRecord record, JobSnapshot job)
    {
        if (!job.Finished)
        {
            return false;
        }

        record.State = job.State == JobState.Succeeded ? OperationStepState.Succeeded : OperationStepState.Failed;
        record.Error = job.Error;
        return true;
    }

    /// <summary>The group's step (before <paramref name="index"/>) that failed and stops the group, or null.</summary>
    private OperationStep? FailedInGroup(string group, int index)
    {
        for (var i = 0; i < index; i++)
        {
            var step = Record.Plan!.Steps[i];
            if (step.Group == group && step.Mode == OperationStepMode.Required && Record.Steps[i].State is OperationStepState.Failed or OperationStepState.Skipped)
            {
                return step;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether an always-run step has nothing to close: the group's earlier step on the same server (a hand-back's
    /// hand-over) was skipped.
    /// </summary>
    private bool OpenerSkipped(OperationStep step, int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            var earlier = Record.Plan!.Steps[i];
            if (earlier.Group == step.Group && earlier.ServerId == step.ServerId)
            {
                return Record.Steps[i].State == OperationStepState.Skipped;
            }
        }

        return false;
    }

    private void Finish()
    {
        // Failed when a required step did not succeed, or a step that must always run (a hand-back) failed.
        var failed = Enumerable.Range(0, Record.Steps.Count).Any(i => Record.Plan!.Steps[i].Mode switch
        {
            OperationStepMode.Required => Record.Steps[i].State != OperationStepState.Succeeded,
            OperationStepMode.Always => Record.Steps[i].State == OperationStepState.Failed,
            _ => false,
        });
        Record.State = failed ? OperationState.Failed : OperationState.Succeeded;
        Record.FinishedAt = time.GetUtcNow();
    }

    private void EnsureTimer()
    {
        if (_timer is not null || Record.State != OperationState.Running)
        {
            return;
        }

        _timer = this.RegisterGrainTimer(
            static (grain, _) => grain.AdvanceAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = TickPeriod, Period = TickPeriod, Interleave = false, KeepAlive = true });
    }

    private async Task UnregisterAsync(string name)
    {
        if (await this.GetReminder(name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private OperationSnapshot? Snapshot()
    {
        if (Record.Plan is not { } plan)
        {
            return null;
        }

        var steps = plan.Steps.Select((s, i) => new OperationStepSnapshot(
            s.Stage, s.Group, s.ServerId, s.Label, s.Job.Kind, s.Mode, Record.Steps[i].State, Record.Steps[i].JobId, Record.Steps[i].Error)).ToImmutableArray();
        return new OperationSnapshot(
            this.GetPrimaryKeyString(), plan.Kind, plan.Summary, Record.State, Record.CreatedAt, Record.FinishedAt, Record.RequestedBy, steps, ServerResults(steps), Record.Version);
    }

    /// <summary>Each server with required steps, in the plan's order: its result from them.</summary>
    private static ImmutableArray<OperationServerResult> ServerResults(ImmutableArray<OperationStepSnapshot> steps) =>
    [
        .. steps.Where(s => s.Mode == OperationStepMode.Required).GroupBy(s => s.ServerId).Select(g =>
        {
            var state = g.Any(s => s.State == OperationStepState.Failed) ? OperationStepState.Failed
                : g.Any(s => s.State == OperationStepState.Skipped) ? OperationStepState.Skipped
                : g.All(s => s.State == OperationStepState.Succeeded) ? OperationStepState.Succeeded
                : g.Any(s => s.State != OperationStepState.Pending) ? OperationStepState.Running
                : OperationStepState.Pending;
            return new OperationServerResult(g.Key, state, g.FirstOrDefault(s => s.Error is not null)?.Error);
        }),
    ];

    [LoggerMessage(Level = LogLevel.Information, Message = "operation {Id} ({Kind}, {Steps} steps) started by {RequestedBy}")]
    private static partial void LogStarted(ILogger logger, string id, string kind, int steps, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "operation {Id} finished: {State}")]
    private static partial void LogFinished(ILogger logger, string id, OperationState state);
}
