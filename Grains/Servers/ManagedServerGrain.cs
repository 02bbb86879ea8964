using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts;
using ManagedServers.Shared.Fleet;
using ManagedServers.Shared.Security;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// One managed server. Liveness comes from the heartbeat stream; a grain timer checks the
/// heartbeat deadline while the grain is active and a reminder does it after silo loss or restart.
/// Writes are deliberate: record changes, state transitions and a heartbeat checkpoint, never every heartbeat.
/// </summary>
[ImplicitStreamSubscription(StreamNames.HeartbeatNamespace)]
[ImplicitStreamSubscription(StreamNames.ResultNamespace)]
[ImplicitStreamSubscription(StreamNames.MetricsNamespace)]
[ImplicitStreamSubscription(StreamNames.DnsMetricsNamespace)]
[ImplicitStreamSubscription(StreamNames.DhcpMetricsNamespace)]
public sealed partial class ManagedServerGrain
    : Grain, IManagedServerGrain, IRemindable, IStreamSubscriptionObserver, IAsyncObserver<Heartbeat>, IAsyncObserver<CommandResult>
{
    private const string LivenessReminder = "heartbeat-timeout";
    private static readonly TimeSpan SettingsRefresh = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CommandPublishTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ConfigureResend = TimeSpan.FromMinutes(5);
    private readonly IPersistentState<ManagedServerState> store;
    private readonly IPersistentState<ServerJobsState> jobsStore;
    private readonly ILogger<ManagedServerGrain> logger;
    private readonly TimeProvider time;
    private readonly IAgentCommandChannel amqpCommands;
    private readonly JobHandlers jobHandlers;
    private readonly ServerGrainOptions _options;
    private readonly HeartbeatTracker _tracker;
    private readonly RequestCounter _requests;
    private readonly Dictionary<string, DateTimeOffset> _deliveredAt = [];
    private readonly Dictionary<string, TaskCompletionSource> _resultWaiters = [];
    private TaskCompletionSource _commandsAvailable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MonitoringSettings _settings = MonitoringSettings.Default;
    private IGrainTimer? _livenessTimer;
    private IGrainTimer? _publishRetryTimer;
    private DateTimeOffset _lastIndexPush;
    private DateTimeOffset _lastCheckpoint;
    private DateTimeOffset _settingsFetchedAt;
    private bool _livenessReminderRegistered;
    private (ConfigureArgs Args, DateTimeOffset At)? _configureSent;

    public ManagedServerGrain(
        [PersistentState("server", GrainNames.Storage)] IPersistentState<ManagedServerState> store,
        [PersistentState("jobs", GrainNames.Storage)] IPersistentState<ServerJobsState> jobsStore,
        ILogger<ManagedServerGrain> logger,
        TimeProvider time,
        IOptions<ServerGrainOptions> options,
        IAgentCommandChannel amqpCommands,
        JobHandlers jobHandlers,
        IPersistentStateFactory stateFactory,
        IEnumerable<ServerPartType> partTypes,
        IServiceProvider services)
    {
        this.store = store;
        this.jobsStore = jobsStore;
        this.logger = logger;
        this.time = time;
        this.amqpCommands = amqpCommands;
        this.jobHandlers = jobHandlers;
        _options = options.Value;
        _tracker = new HeartbeatTracker(time);
        _requests = new RequestCounter(time);
        _stateFactory = stateFactory;
        _parts = CreateParts(this, partTypes, services);
    }

    private ManagedServerState Record => store.State;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _settings = await GrainFactory.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        _settingsFetchedAt = time.GetUtcNow();
        _livenessReminderRegistered = Record.LivenessReminderRegistered || (Record.Exists && Record.State != ServerState.Pending);
        if (Record.Exists)
        {
            _tracker.Restore(Record.State, Record.StateSince, Record.LastHeartbeat, Record.BootId, Record.Sequence);
            _lastCheckpoint = time.GetUtcNow();
            UpdateLivenessTimer();
            if (UsesAmqp && Record.Commands.Exists(c => c.State == CommandState.Queued))
            {
                SchedulePublishRetry(TimeSpan.Zero); // a silo died between saving and publishing: publish now (agents dedupe by id)
            }

            await ActivatePartsAsync(cancellationToken);
            await RecoverJobCommandsAsync(); // jobs: ManagedServerGrain.Jobs.cs
            EnsureJobTimer();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _commandsAvailable.TrySetCanceled(CancellationToken.None);
        _jobsChanged.TrySetCanceled(CancellationToken.None);
        foreach (var waiter in _resultWaiters.Values)
        {
            waiter.TrySetCanceled(CancellationToken.None);
        }

        return DeactivateSavesAsync(cancellationToken);
    }

    private async Task DeactivateSavesAsync(CancellationToken cancellationToken)
    {
        if (Record.Exists)
        {
            await DeactivatePartsAsync(cancellationToken);
        }

        if (Record.Exists && _jobsDirty)
        {
            await SaveJobsAsync();
        }

        if (Record.Exists && Record.LastHeartbeat != _tracker.LastHeartbeat)
        {
            await SaveAsync();
        }

        if (_jobEventAnnouncer is { } events)
        {
            await events.DrainAsync();
        }
    }

    public async Task<ServerSnapshot> CreateAsync(ServerDefinition definition)
    {
        if (Record.Exists)
        {
            throw new ConflictException($"server '{Id}' already exists");
        }

        var now = time.GetUtcNow();
        store.State = new ManagedServerState
        {
            Exists = true,
            Definition = definition,
            CreatedAt = now,
            State = ServerState.Pending,
            StateSince = now,
        };
        _tracker.Restore(ServerState.Pending, now, null, Guid.Empty, 0);

        // Reminders now, with the record (the parts register theirs): a fleet that starts all at once then writes only
        // its first samples and state transitions, not reminder rows per server in the same minute.
        await this.RegisterOrUpdateReminder(LivenessReminder, _options.LivenessReminderPeriod, _options.LivenessReminderPeriod);
        Record.LivenessReminderRegistered = true;
        _livenessReminderRegistered = true;
        await store.WriteStateAsync();
        await PushToIndexAsync();
        await DefinitionChangedAsync(null);
        LogCreated(logger, Id, definition.Name);
        return Snapshot();
    }

    public Task<ServerSnapshot?> GetAsync() => Task.FromResult(Record.Exists ? Snapshot() : null);

    public async Task<ServerSnapshot> UpdateAsync(ServerPatch patch)
    {
        var current = RequireDefinition();
        if (patch.Runtime is { } runtime && runtime != current.Runtime && Record.Services.Count > 0)
        {
            throw new ConflictException($"server '{current.Name}' runs {string.Join(", ", Record.Services.Select(s => s.Kind))} on the {ContractsJson.WireName(current.Runtime)} runtime: remove its services before changing the runtime") { Field = "runtime" };
        }

        Record.Definition = current with
        {
            Name = patch.Name ?? current.Name,
            Address = patch.Address ?? current.Address,
            Os = patch.Os ?? current.Os,
            Runtime = patch.Runtime ?? current.Runtime,
            Communication = patch.Communication ?? current.Communication,
            MonitoringApiIp = patch.MonitoringApiIp ?? current.MonitoringApiIp,
            PullPort = patch.PullPort ?? current.PullPort,
        };
        await SaveAsync();
        await PushToIndexAsync();
        await DefinitionChangedAsync(current);
        return Snapshot();
    }

    public async Task DeleteAsync()
    {
        if (!Record.Exists)
        {
            throw new NotFoundException($"server '{Id}' not found");
        }

        var name = Record.Definition!.Name;
        await DeletePartsAsync();
        await jobsStore.ClearStateAsync();
        jobsStore.State = new ServerJobsState();
        await store.ClearStateAsync();
        store.State = new ManagedServerState();
        _livenessTimer?.Dispose();
        _livenessTimer = null;
        _jobTimer?.Dispose();
        _jobTimer = null;
        _bundles.Clear();
        await UnregisterReminderAsync(LivenessReminder);
        await GrainFactory.GetGrain<IFleetIndexGrain>(FleetIndex.ShardOf(Id)).RemoveAsync(Id);
        _commandsAvailable.TrySetResult();
        LogDeleted(logger, Id, name);
        DeactivateOnIdle();
    }

    public async Task<IssuedEnrollmentToken> IssueEnrollmentTokenAsync(TimeSpan? lifetime = null)
    {
        RequireDefinition();
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _settings = await GrainFactory.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        var expires = time.GetUtcNow() + (lifetime ?? TimeSpan.FromHours(_settings.EnrollmentTokenHours));
        Record.EnrollmentToken = new EnrollmentTokenState { Sha256 = SecretHash.Sha256Hex(token), ExpiresAt = expires };
        await SaveAsync();
        return new IssuedEnrollmentToken(token, expires);
    }

    public async Task<ServerSnapshot> RedeemEnrollmentTokenAsync(string token)
    {
        var stored = ValidEnrollmentToken(token);
        stored.UsedAt = time.GetUtcNow();
        await SaveAsync();
        return Snapshot();
    }

    public Task<ServerSnapshot> CheckEnrollmentTokenAsync(string token)
    {
        ValidEnrollmentToken(token);
        return Task.FromResult(Snapshot());
    }

    private EnrollmentTokenState ValidEnrollmentToken(string token)
    {
        if (!Record.Exists)
        {
            throw new EnrollmentRefusedException("no such server: it was deleted or never existed") { Reason = EnrollmentRefusal.ServerDeleted };
        }

        var stored = Record.EnrollmentToken;
        if (stored is null || !SecretHash.Equal(stored.Sha256, SecretHash.Sha256Hex(token)))
        {
            throw new EnrollmentRefusedException("enrolment token is not valid for this server") { Reason = EnrollmentRefusal.Invalid };
        }

        if (stored.UsedAt is not null)
        {
            throw new EnrollmentRefusedException("enrolment token was already used; download a new setup bundle") { Reason = EnrollmentRefusal.AlreadyUsed };
        }

        if (time.GetUtcNow() > stored.ExpiresAt)
        {
            throw new EnrollmentRefusedException($"enrolment token expired at {stored.ExpiresAt:u}; download a new setup bundle") { Reason = EnrollmentRefusal.Expired };
        }

        return stored;
    }

    public async Task<string> EnqueueCommandAsync(string kind, string? argsJson, TimeSpan timeToLive)
    {
        RequireDefinition();
        var entry = QueueCommand(kind, argsJson, timeToLive);
        await SaveAsync();
        await DispatchQueuedCommandsAsync();
        return entry.CommandId;
    }

    /// <summary>Adds a command to the queue (the caller saves, then dispatches).</summary>
    private CommandEntry QueueCommand(string kind, string? argsJson, TimeSpan timeToLive)
    {
        var now = time.GetUtcNow();
        var entry = new CommandEntry
        {
            CommandId = $"cmd_{Guid.NewGuid():N}",
            Kind = kind,
            ArgsJson = argsJson,
            CreatedAt = now,
            ExpiresAt = now + timeToLive,
            State = CommandState.Queued,
        };
        Record.Commands.Add(entry);
        TrimCommandHistory();
        return entry;
    }

    /// <summary>After a save: AMQP servers' commands go to the broker, HTTPS agents' long polls wake up.</summary>
    private async Task DispatchQueuedCommandsAsync()
    {
        if (UsesAmqp)
        {
            await PublishQueuedCommandsAsync();
        }
        else
        {
            SignalCommands();
        }
    }

    private bool UsesAmqp => Record.Definition?.Communication == CommunicationMode.Amqp;

    /// <summary>
    /// Publishes queued commands to the agent's broker queue, in order; marks them delivered once the
    /// broker confirmed. When the broker is down they stay queued and a timer retries: the command is
    /// saved before it is published, so neither a broker outage nor a silo crash loses it, and the
    /// agent applies a command id once however often it is published.
    /// </summary>
    private async Task PublishQueuedCommandsAsync()
    {
        if (!amqpCommands.Available)
        {
            return;
        }

        var now = time.GetUtcNow();
        var published = false;
        using var timeout = new CancellationTokenSource(CommandPublishTimeout); // never hold the grain while the broker is away
        foreach (var entry in Record.Commands.Where(c => c.State == CommandState.Queued && c.ExpiresAt > now).ToList())
        {
            try
            {
                await amqpCommands.PublishAsync(Id, ToAgentCommand(entry), timeout.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogPublishFailed(logger, Id, entry.CommandId, ex.Message);
                SchedulePublishRetry(TimeSpan.FromSeconds(5));
                break;
            }

            entry.State = CommandState.Delivered;
            _deliveredAt[entry.CommandId] = now;
            OnCommandDelivered(entry.CommandId);
            published = true;
        }

        if (published)
        {
            await SaveAsync();
        }
    }

    private void SchedulePublishRetry(TimeSpan due)
    {
        _publishRetryTimer?.Dispose();
        _publishRetryTimer = this.RegisterGrainTimer(
            static async (grain, _) =>
            {
                grain._publishRetryTimer?.Dispose();
                grain._publishRetryTimer = null;
                await grain.PublishQueuedCommandsAsync();
            },
            this,
            new GrainTimerCreationOptions { DueTime = due, Period = Timeout.InfiniteTimeSpan, Interleave = false, KeepAlive = true });
    }

    private static AgentCommand ToAgentCommand(CommandEntry entry) => new(
        entry.CommandId,
        entry.Kind,
        entry.CreatedAt,
        entry.ExpiresAt,
        entry.ArgsJson is null ? null : JsonDocument.Parse(entry.ArgsJson).RootElement.Clone());

    public async Task<ImmutableArray<AgentCommand>> WaitForCommandsAsync(TimeSpan wait)
    {
        var deadline = time.GetUtcNow() + wait;
        while (Record.Exists)
        {
            var due = DueCommands();
            if (!due.IsEmpty)
            {
                return due;
            }

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                await _commandsAvailable.Task.WaitAsync(remaining, time);
            }
            catch (TimeoutException)
            {
                break;
            }
            catch (TaskCanceledException)
            {
                break;
            }
        }

        return [];
    }

    public Task ReleaseCommandsAsync(ImmutableArray<string> commandIds)
    {
        foreach (var id in commandIds)
        {
            if (Record.Commands.Find(c => c.CommandId == id) is { State: CommandState.Delivered } entry)
            {
                entry.State = CommandState.Queued;
                _deliveredAt.Remove(id);
                OnCommandReleased(id);
            }
        }

        return Task.CompletedTask; // in memory: a lost release only means the redelivery delay
    }

    public async Task CompleteCommandAsync(CommandResult result)
    {
        result = result with { Error = AgentInput.Text(result.Error, AgentInput.MaxMessage * 4) };
        var entry = Record.Commands.Find(c => c.CommandId == result.CommandId);
        if (entry is null || entry.State is CommandState.Succeeded or CommandState.Failed or CommandState.Expired)
        {
            return; // unknown or already answered: a repeated result changes nothing
        }

        var activeJobs = ActiveJobCount();
        var services = Record.Services;
        entry.State = result.Success ? CommandState.Succeeded : CommandState.Failed;
        entry.CompletedAt = time.GetUtcNow();
        entry.Error = result.Error;
        if (jobHandlers.ForCommand(entry.Kind) is { DropsArgumentsWhenDone: true })
        {
            entry.ArgsJson = null; // e.g. inline zone files: not kept in the command history once answered
        }

        var output = result.Output is { } element ? element.GetRawText() : null;
        if (await OnJobResultAsync(result, output)) // a handler saves its part's state before the job
        {
            // The job keeps the result; the command history does not carry a second copy. The job is written
            // first: a silo lost between the writes redelivers the command, and the agent's stored answer finds
            // the job finished.
            await SaveJobsAsync();
        }
        else
        {
            entry.OutputJson = output;
        }

        _deliveredAt.Remove(entry.CommandId);
        await SaveAsync();
        if (_resultWaiters.Remove(entry.CommandId, out var waiter))
        {
            waiter.TrySetResult();
        }

        if (activeJobs != ActiveJobCount() || !services.SequenceEqual(Record.Services))
        {
            await PushToIndexAsync(); // active jobs and services show in lists
        }
    }

    public async Task<CommandStatus> WaitForCommandResultAsync(string commandId, TimeSpan wait)
    {
        var entry = Record.Commands.Find(c => c.CommandId == commandId)
            ?? throw new NotFoundException($"command '{commandId}' not found on server '{Id}'");
        if (entry.State is CommandState.Queued or CommandState.Delivered)
        {
            if (!_resultWaiters.TryGetValue(commandId, out var waiter))
            {
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _resultWaiters[commandId] = waiter;
            }

            try
            {
                await waiter.Task.WaitAsync(wait, time);
            }
            catch (TimeoutException)
            {
            }
            catch (TaskCanceledException)
            {
            }
        }

        return ToStatus(entry);
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.StreamId.GetNamespace() switch
    {
        StreamNames.ResultNamespace => handleFactory.Create<CommandResult>().ResumeAsync(this),
        StreamNames.HeartbeatNamespace => handleFactory.Create<Heartbeat>().ResumeAsync(this),
        _ => SubscribePartAsync(handleFactory),
    };

    /// <summary>A command result that came through the ingestion stream (AMQP agents).</summary>
    public Task OnNextAsync(CommandResult item, StreamSequenceToken? token = null) =>
        Record.Exists ? CompleteCommandAsync(item) : Task.CompletedTask;

    public async Task OnNextAsync(Heartbeat item, StreamSequenceToken? token = null)
    {
        if (!Record.Exists || item.ServerId != Id)
        {
            return; // deleted server, or a message that does not belong here
        }

        item = AgentInput.Bound(item);

        var previousBoot = _tracker.BootId;
        var outcome = _tracker.Observe(item);
        if (outcome == HeartbeatOutcome.Ignored)
        {
            return;
        }

        if (_tracker.BootId != previousBoot)
        {
            // A new agent process: whatever the old one was handed and never answered goes out at the next poll
            // (the agent answers a command id it already ran from its completed-command store).
            _deliveredAt.Clear();
        }

        Record.HeartbeatsAccepted++;
        Record.Hostname = item.Hostname ?? Record.Hostname;
        Record.UptimeSeconds = item.UptimeSeconds;
        Record.AgentVersion = item.AgentVersion;
        Record.Versions = MergeVersions(Record.Versions, item);
        var metricsAddressChanged = !string.Equals(Record.MetricsAddress, item.MetricsAddress, StringComparison.Ordinal);
        Record.MetricsAddress = item.MetricsAddress;
        if (metricsAddressChanged && item.MetricsAddress is { } reported && MetricsTarget.Resolve(reported, Record.Definition?.Address, out var why) is null)
        {
            LogForeignMetricsAddress(logger, Id, reported, why ?? "not usable");
        }

        var servicesChanged = ObserveServices(item.Services, item.SentAt);
        ObserveProgress(item.Progress);
        if (UsesAmqp && !item.Stopping && item.Monitoring is not null)
        {
            await SendConfigureIfStaleAsync(item);
        }

        var now = time.GetUtcNow();
        if (outcome == HeartbeatOutcome.StateChanged)
        {
            LogStateChanged(logger, Id, _tracker.State);
            if (_tracker.State == ServerState.Running)
            {
                OnAgentBack();
            }

            await SaveAsync();
            await PushToIndexAsync();
            UpdateLivenessTimer();
            await UpdateLivenessReminderAsync();
            return;
        }

        if (metricsAddressChanged || servicesChanged)
        {
            // Rare (agent reconfigured, a service changed state): save and index now, so lists and Prometheus discovery follow at once.
            await SaveAsync();
            await PushToIndexAsync();
            return;
        }

        if (now - _lastCheckpoint >= _options.HeartbeatCheckpointInterval)
        {
            await SaveAsync();
        }

        if (now - _lastIndexPush >= _options.IndexRefreshInterval)
        {
            await PushToIndexAsync();
        }
    }

    /// <summary>
    /// AMQP agents get no heartbeat answer: when a heartbeat shows settings other than the current ones, the
    /// agent gets a <c>configure</c> command (at most once per settings change and every few minutes while
    /// it has not applied them), so it follows settings within about one heartbeat, without a restart.
    /// </summary>
    private async Task SendConfigureIfStaleAsync(Heartbeat heartbeat)
    {
        await RefreshSettingsAsync();
        var wanted = new ConfigureArgs(_settings.HeartbeatIntervalSeconds, _settings.ToAgentConfig());
        if (heartbeat.HeartbeatIntervalSeconds == wanted.HeartbeatIntervalSeconds && heartbeat.Monitoring == wanted.Monitoring)
        {
            _configureSent = null;
            return;
        }

        var now = time.GetUtcNow();
        if (_configureSent is { } sent && sent.Args == wanted && now - sent.At < ConfigureResend)
        {
            return;
        }

        _configureSent = (wanted, now);
        await EnqueueCommandAsync(CommandKinds.Configure, JsonSerializer.Serialize(wanted, ManagedServers.Contracts.ContractsJson.Default.ConfigureArgs), ConfigureResend);
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        LogStreamError(logger, ex, Id);
        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!Record.Exists)
        {
            await UnregisterReminderAsync(reminderName);
            return;
        }

        switch (reminderName)
        {
            case LivenessReminder:
                await CheckLivenessAsync();
                await CheckJobsAsync();
                EnsureJobTimer();
                break;
            default:
                await PartReminderAsync(reminderName);
                break;
        }
    }

    private async Task RefreshSettingsAsync()
    {
        if (time.GetUtcNow() - _settingsFetchedAt > SettingsRefresh)
        {
            _settings = await GrainFactory.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
            _settingsFetchedAt = time.GetUtcNow();
        }
    }

    private async Task CheckLivenessAsync()
    {
        await RefreshSettingsAsync();

        if (_tracker.CheckTimeout(_settings.HeartbeatTimeout))
        {
            LogStateChanged(logger, Id, _tracker.State);
            await SaveAsync();
            await PushToIndexAsync();
            UpdateLivenessTimer();
            await UpdateLivenessReminderAsync();
        }
    }

    private void UpdateLivenessTimer()
    {
        if (_tracker.State != ServerState.Running)
        {
            _livenessTimer?.Dispose();
            _livenessTimer = null;
            return;
        }

        if (_livenessTimer is not null)
        {
            return;
        }

        var period = TimeSpan.FromTicks(Math.Clamp(_settings.HeartbeatTimeout.Ticks / 6, TimeSpan.FromMilliseconds(250).Ticks, TimeSpan.FromSeconds(15).Ticks));
        _livenessTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.CheckLivenessAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false, KeepAlive = true });
    }

    /// <summary>
    /// The liveness reminder is registered once, when the server is created (servers created by older
    /// versions: when they first run), and kept until the server
    /// is deleted: a tick for a stopped or unreachable server is a cheap no-op, whereas registering and
    /// unregistering on every transition would add reminder-table writes exactly when a fleet flaps.
    /// </summary>
    private async Task UpdateLivenessReminderAsync()
    {
        if (_tracker.State == ServerState.Running && !_livenessReminderRegistered)
        {
            await this.RegisterOrUpdateReminder(LivenessReminder, _options.LivenessReminderPeriod, _options.LivenessReminderPeriod);
            _livenessReminderRegistered = true;
        }
    }

    private async Task UnregisterReminderAsync(string name)
    {
        var reminder = await this.GetReminder(name);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private ImmutableArray<AgentCommand> DueCommands()
    {
        var now = time.GetUtcNow();
        var builder = ImmutableArray.CreateBuilder<AgentCommand>();
        foreach (var entry in Record.Commands)
        {
            if (entry.State is not (CommandState.Queued or CommandState.Delivered))
            {
                continue;
            }

            if (entry.ExpiresAt <= now)
            {
                continue; // the agent answers expired ones itself if it ever sees them; the API reports them as expired
            }

            if (_deliveredAt.TryGetValue(entry.CommandId, out var at) && now - at < _options.CommandRedeliveryAfter)
            {
                continue;
            }

            _deliveredAt[entry.CommandId] = now;
            entry.State = CommandState.Delivered;
            OnCommandDelivered(entry.CommandId);
            builder.Add(ToAgentCommand(entry));
        }

        return builder.ToImmutable();
    }

    private void SignalCommands()
    {
        var previous = _commandsAvailable;
        _commandsAvailable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private void TrimCommandHistory()
    {
        var finished = Record.Commands.Count(c => c.State is not (CommandState.Queued or CommandState.Delivered));
        for (var i = 0; finished > _options.CommandHistory && i < Record.Commands.Count;)
        {
            if (Record.Commands[i].State is not (CommandState.Queued or CommandState.Delivered))
            {
                Record.Commands.RemoveAt(i);
                finished--;
            }
            else
            {
                i++;
            }
        }
    }

    private CommandStatus ToStatus(CommandEntry entry)
    {
        var state = entry.State is CommandState.Queued or CommandState.Delivered && entry.ExpiresAt <= time.GetUtcNow()
            ? CommandState.Expired
            : entry.State;
        return new CommandStatus(entry.CommandId, entry.Kind, state, entry.CreatedAt, entry.CompletedAt, entry.Error, entry.OutputJson);
    }

    private async Task SaveAsync()
    {
        Record.State = _tracker.State;
        Record.StateSince = _tracker.StateSince;
        Record.LastHeartbeat = _tracker.LastHeartbeat;
        Record.BootId = _tracker.BootId;
        Record.Sequence = _tracker.Sequence;
        await store.WriteStateAsync();
        _lastCheckpoint = time.GetUtcNow();
    }

    private async Task PushToIndexAsync()
    {
        _lastIndexPush = time.GetUtcNow();
        try
        {
            await GrainFactory.GetGrain<IFleetIndexGrain>(FleetIndex.ShardOf(Id)).UpsertAsync(Snapshot());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The index catches up on the next change or refresh; the server record is already saved.
            LogIndexFailed(logger, ex, Id);
        }
    }

    private ServerDefinition RequireDefinition() =>
        Record.Exists ? Record.Definition! : throw new NotFoundException($"server '{Id}' not found");

    private ServerSnapshot Snapshot() => new(
        Id,
        Record.Definition!,
        _tracker.State,
        _tracker.StateSince,
        _tracker.LastHeartbeat,
        _requests.Count(),
        Record.Versions,
        Record.CreatedAt,
        Record.Hostname,
        Record.UptimeSeconds,
        CurrentCertificate()?.NotAfter,
        Record.AgentVersion,
        Record.HeartbeatsAccepted,
        Record.MetricsAddress,
        [.. Record.Services],
        ActiveJobCount(),
        CurrentCertificate()?.Issuer,
        Record.Definition!.Kind == ServerKind.Dhcp ? Telemetry.DhcpSummary : []);

    private int ActiveJobCount() => JobLog.Jobs.Count(j => !j.Finished);

    private static ComponentVersionSet MergeVersions(ComponentVersionSet current, Heartbeat heartbeat)
    {
        // dns/dhcp4/dhcp6 follow the reported services (SetServices); an agent that reports no services list keeps this path.
        var reported = heartbeat.Versions;
        string? Get(string key, string? fallback) => reported is not null && reported.TryGetValue(key, out var v) ? v : fallback;
        return new ComponentVersionSet(
            heartbeat.AgentVersion,
            Get("backup", current.Backup),
            Get("dns", current.Dns),
            Get("dhcp4", current.Dhcp4),
            Get("dhcp6", current.Dhcp6));
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Server {ServerId} created as '{Name}'")]
    private static partial void LogCreated(ILogger logger, string serverId, string name);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Server {ServerId} deleted ('{Name}')")]
    private static partial void LogDeleted(ILogger logger, string serverId, string name);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Server {ServerId} is now {State}")]
    private static partial void LogStateChanged(ILogger logger, string serverId, ServerState state);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Warning, Message = "Server {ServerId}: its agent reports metrics at {MetricsAddress}, which Prometheus discovery does not list: {Why}")]
    private static partial void LogForeignMetricsAddress(ILogger logger, string serverId, string metricsAddress, string why);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Heartbeat stream error for server {ServerId}")]
    private static partial void LogStreamError(ILogger logger, Exception ex, string serverId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Fleet index update failed for server {ServerId}")]
    private static partial void LogIndexFailed(ILogger logger, Exception ex, string serverId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Publishing command {CommandId} for server {ServerId} to RabbitMQ failed; retrying: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string serverId, string commandId, string reason);
}
