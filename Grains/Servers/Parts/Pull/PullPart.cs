using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Servers.Parts.Telemetry;
using Microsoft.Extensions.Options;

namespace ManagedServers.Grains.Servers.Parts.Pull;

/// <summary>
/// Pull mode (communication <c>pull</c>, for servers whose firewall blocks connections to the control plane): the
/// grain pulls its agent's spooled samples and heartbeat.
/// <list type="bullet">
/// <item>A grain timer at the system interval (at most the heartbeat interval; re-read when settings change) starts a
/// pull round. The network part runs off the grain's turn (on the thread pool, through <see cref="IAgentPuller"/>,
/// which bounds concurrent pulls per silo), so a slow or unreachable agent never blocks calls to the grain. Each grain
/// pulls on its own timer and grains are spread over the silos: pulls of different servers overlap, and there is no
/// loop over agents anywhere.</item>
/// <item>The round hands each batch to <see cref="IServerMetricsGrain.IngestAsync"/> as a normal grain call (the same
/// path as a push: durable, once per (server, sample time)), and acknowledges it with the next request's <c>ack</c>:
/// the newest sample time the grain has processed (or, after a reactivation, the newest stored), so the agent forgets
/// only what is stored. A lost answer or a crash costs a repeat, which the store ignores; never a sample.</item>
/// <item>Every heartbeat interval the round also pulls a heartbeat, recorded like a pushed one
/// (<see cref="TakeHeartbeat"/>, then the liveness path of the grain): a successful pull proves liveness.</item>
/// <item>At most one round per server at a time. A failed round is logged and retried with backoff (1 s to 1 min);
/// nothing is thrown out of the timer, and the agent's spool keeps the samples until a pull succeeds.</item>
/// <item>A reminder (<see cref="ServerGrainOptions.PullReminderPeriod"/>) reactivates the grain, and so its timer,
/// after a silo restart or failover. It is registered when a server is created with or switched to pull and removed
/// when it is switched away or deleted.</item>
/// </list>
/// </summary>
public sealed partial class PullPart(
    IServerHost host, IAgentPuller puller, IOptions<ServerGrainOptions> options, TimeProvider time, ILogger<PullPart> logger)
    : ServerPart(host)
{
    public const string Reminder = "pull";
    private const int PullBatchSize = AgentApi.PullDefaultMax;

    private readonly IAgentPuller _puller = puller;
    private readonly ServerGrainOptions _options = options.Value;
    private readonly TimeProvider _time = time;
    private readonly ILogger<PullPart> _logger = logger;
    private readonly Backoff _pullBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    private TelemetryPart? _telemetryPart;
    private IGrainTimer? _pullTimer;
    private TimeSpan _pullPeriod;
    private Task<PullRoundResult>? _pullRound;
    private long _pulledThroughMs;
    private DateTimeOffset _nextPullAt;
    private DateTimeOffset _lastPulledHeartbeatAt;
    private bool _pullUnavailableLogged;

    public override IReadOnlyCollection<string> Reminders { get; } = [Reminder];

    private bool UsesPull => Host.Definition?.Communication == CommunicationMode.Pull;

    private TelemetryPart Telemetry => _telemetryPart ??= Host.Part<TelemetryPart>();

    /// <summary>A heartbeat a pull round fetched: whether the grain should take it like a pushed one.</summary>
    public bool TakeHeartbeat(Heartbeat heartbeat)
    {
        if (Host.Definition is null || heartbeat.ServerId != Host.Id || heartbeat.Sequence < 1 || heartbeat.BootId == Guid.Empty)
        {
            return false;
        }

        _lastPulledHeartbeatAt = _time.GetUtcNow();
        return true;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        EnsurePulling();
        return Task.CompletedTask;
    }

    /// <summary>Created with or switched to pull: the reminder and the timer; switched away: neither.</summary>
    public override async Task OnDefinitionChangedAsync(ServerDefinition? before)
    {
        if (UsesPull)
        {
            if (before?.Communication != CommunicationMode.Pull)
            {
                await Host.RegisterReminderAsync(Reminder, _options.PullReminderPeriod);
            }

            EnsurePulling();
        }
        else if (before?.Communication == CommunicationMode.Pull)
        {
            StopPulling();
            await Host.UnregisterReminderAsync(Reminder);
        }
    }

    /// <summary>The pull reminder fired (the grain may have just been activated by it).</summary>
    public override async Task OnReminderAsync(string name)
    {
        if (!UsesPull)
        {
            await Host.UnregisterReminderAsync(Reminder);
            return;
        }

        EnsurePulling();
    }

    /// <summary>No more pulls; a round in flight finishes on its own. The shell unregisters the reminder.</summary>
    public override Task OnDeleteAsync()
    {
        StopPulling();
        return Task.CompletedTask;
    }

    /// <summary>A pull server has its timer, at the current period.</summary>
    private void EnsurePulling()
    {
        if (!UsesPull)
        {
            return;
        }

        var period = PullPeriod();
        if (_pullTimer is null)
        {
            _pullPeriod = period;
            _pullTimer = Host.RegisterTimer(
                _ => PullTickAsync(),
                new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = period, Interleave = false, KeepAlive = true });
        }
        else if (period != _pullPeriod)
        {
            _pullPeriod = period;
            _pullTimer.Change(period, period);
        }
    }

    private void StopPulling()
    {
        _pullTimer?.Dispose();
        _pullTimer = null;
        _pullRound = null;
    }

    /// <summary>The system interval while system monitoring is on, but at least one pull per heartbeat interval.</summary>
    private TimeSpan PullPeriod()
    {
        var seconds = Host.Settings.HeartbeatIntervalSeconds;
        if (Host.Settings.SystemMonitoring && Host.Settings.SystemIntervalSeconds < seconds)
        {
            seconds = Host.Settings.SystemIntervalSeconds;
        }

        return TimeSpan.FromSeconds(Math.Max(1, seconds));
    }

    private async Task PullTickAsync()
    {
        if (!UsesPull)
        {
            StopPulling();
            return;
        }

        await Host.RefreshSettingsAsync();
        EnsurePulling(); // follows a new interval
        if (_pullRound is { } round)
        {
            if (!round.IsCompleted)
            {
                return; // never two rounds at once for one server
            }

            _pullRound = null;
            FinishPullRound(await round);
        }

        var now = _time.GetUtcNow();
        if (now < _nextPullAt)
        {
            return;
        }

        var puller = _puller;
        if (!puller.Available)
        {
            if (!_pullUnavailableLogged)
            {
                LogPullUnavailable(_logger, Host.Id);
                _pullUnavailableLogged = true;
            }

            return;
        }

        var definition = Host.Definition!;
        var target = new PullTarget(Host.Id, definition.Address, definition.PullPort);
        if (string.IsNullOrWhiteSpace(target.Address))
        {
            FinishPullRound(new PullRoundResult(0, 0, "the server has no address to pull from; set its address"));
            return;
        }

        var ack = Math.Max(_pulledThroughMs, Telemetry.LastSampleAt?.ToUnixTimeMilliseconds() ?? 0);
        var heartbeat = now - _lastPulledHeartbeatAt >= TimeSpan.FromSeconds(Host.Settings.HeartbeatIntervalSeconds);
        var grains = Host.GrainFactory;
        var knownDropped = Telemetry.SpoolDropped;
        var batches = Math.Max(1, _options.PullBatchesPerTick);

        // Off the grain's turn: the timer returns at once, the round calls the grain like any client would.
        _pullRound = Task.Run(() => PullRoundAsync(puller, grains, target, ack, knownDropped, heartbeat, batches));
    }

    private void FinishPullRound(PullRoundResult result)
    {
        _pulledThroughMs = Math.Max(_pulledThroughMs, result.ThroughMs);
        if (result.Error is null)
        {
            if (_pullBackoff.Failures > 0)
            {
                LogPullRecovered(_logger, Host.Id, _pullBackoff.Failures);
            }

            _pullBackoff.Reset();
            _nextPullAt = DateTimeOffset.MinValue;
            return;
        }

        var delay = _pullBackoff.Next();
        _nextPullAt = _time.GetUtcNow() + delay;
        LogPullFailed(_logger, Host.Id, _pullBackoff.Failures, result.Error, delay.TotalSeconds);
    }

    /// <summary>One pull round, run off the grain's turn; never throws.</summary>
    private static async Task<PullRoundResult> PullRoundAsync(
        IAgentPuller puller, IGrainFactory grains, PullTarget target, long ackMs, long knownDropped, bool heartbeat, int maxBatches)
    {
        var through = ackMs;
        var pulled = 0;
        try
        {
            for (var i = 0; i < maxBatches; i++)
            {
                var batch = await puller.PullSamplesAsync(target, through, PullBatchSize, CancellationToken.None);
                if (batch.Samples.Count > 0 || batch.DroppedTotal != knownDropped)
                {
                    await grains.GetGrain<IServerMetricsGrain>(target.ServerId).IngestAsync(batch);
                    knownDropped = batch.DroppedTotal;
                }

                if (batch.Samples.Count == 0)
                {
                    break;
                }

                // Processed (stored, already stored or refused as out of range): the next request acknowledges it.
                through = Math.Max(through, batch.Samples.Max(s => s.Time.ToUnixTimeMilliseconds()));
                pulled += batch.Samples.Count;
                if (batch.Samples.Count < PullBatchSize)
                {
                    break;
                }
            }

            if (heartbeat)
            {
                var beat = await puller.PullHeartbeatAsync(target, CancellationToken.None);
                await grains.GetGrain<IServerPullGrain>(target.ServerId).RecordPulledHeartbeatAsync(beat);
            }

            return new PullRoundResult(through, pulled, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new PullRoundResult(through, pulled, e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }
    }

    /// <summary>The outcome of a pull round: the newest sample time processed, samples pulled, and the error if it failed.</summary>
    private readonly record struct PullRoundResult(long ThroughMs, int Samples, string? Error);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "Pulling server {ServerId} failed ({Failures} in a row): {Error}; retrying in {RetryInSeconds:0.#} s")]
    private static partial void LogPullFailed(ILogger logger, string serverId, int failures, string error, double retryInSeconds);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Information, Message = "Pulling server {ServerId} works again after {Failures} failures")]
    private static partial void LogPullRecovered(ILogger logger, string serverId, int failures);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "Server {ServerId} is in pull mode, but this silo has no agent puller; its samples stay on the agent")]
    private static partial void LogPullUnavailable(ILogger logger, string serverId);
}
