using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Monitoring;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace ManagedServers.Grains.Servers.Parts.Telemetry;

/// <summary>
/// The server's telemetry: every kind of series the agent sends (system samples, DNS intervals, DHCP intervals), ingested idempotently
/// into the metrics store (<see cref="Series"/>), rolled up into minutes and hours, and trimmed by one reminder
/// (<c>metrics-retention</c>) that also re-aggregates minutes a silo loss left stale. A new kind of telemetry adds its
/// ingest and reads here (a file of this part) and its series names; retention and deletion cover it through
/// <see cref="AllSeries"/>.
/// </summary>
public sealed partial class TelemetryPart : ServerPart
{
    public const string RetentionReminder = "metrics-retention";
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(10);

    private readonly IPersistentState<TelemetryState> _state;
    private readonly ServerGrainOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TelemetryPart> _logger;
    private readonly Series _system;
    private readonly Series _dns;
    private readonly Series _dnsNames;
    private readonly Series _dhcp;
    private DateTimeOffset? _savedLastSampleAt;

    public TelemetryPart(IServerHost host, IMetricsStore store, IOptions<ServerGrainOptions> options, TimeProvider time, ILogger<TelemetryPart> logger)
        : base(host)
    {
        _state = host.State<TelemetryState>("telemetry");
        _options = options.Value;
        _time = time;
        _logger = logger;
        _system = new Series(store, host.Id);
        _dns = new Series(store, host.Id + "#dns");
        _dnsNames = new Series(store, host.Id + "#dnsnames");
        _dhcp = new Series(store, host.Id + "#dhcp");
    }

    public override IReadOnlyCollection<string> Reminders { get; } = [RetentionReminder];

    public override IReadOnlyCollection<string> StreamNamespaces { get; } = [StreamNames.MetricsNamespace, StreamNames.DnsMetricsNamespace, StreamNames.DhcpMetricsNamespace];

    /// <summary>Time of the newest stored system sample (pull mode acknowledges from it after a reactivation).</summary>
    public DateTimeOffset? LastSampleAt => _state.State.LastSampleAt;

    /// <summary>Samples the agent's spool dropped because it was full, as last reported.</summary>
    public long SpoolDropped => _state.State.SpoolDropped;

    private TelemetryState Data => _state.State;

    private IEnumerable<Series> AllSeries => [_system, _dns, _dnsNames, _dhcp];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _savedLastSampleAt = Data.LastSampleAt;
        return LoadDhcpLatestAsync();
    }

    public override Task OnDeactivateAsync(CancellationToken cancellationToken) =>
        Host.Definition is not null && Data.LastSampleAt != _savedLastSampleAt ? SaveAsync() : Task.CompletedTask;

    public override async Task OnDefinitionChangedAsync(ServerDefinition? before)
    {
        if (before is null)
        {
            // With the record: a fleet created at once writes no reminder rows later, in the same minute as its first samples.
            await Host.RegisterReminderAsync(RetentionReminder, _options.MetricsReminderPeriod);
            Data.ReminderRegistered = true; // saved with the first change that writes this state
        }
    }

    public override Task OnSubscribedAsync(IStreamSubscriptionHandleFactory handles) => handles.StreamId.GetNamespace() switch
    {
        StreamNames.DhcpMetricsNamespace => handles.Create<DhcpMetricsBatch>().ResumeAsync((item, _) => Host.Definition is not null && item.ServerId == Host.Id ? IngestDhcpAsync(item) : Task.CompletedTask, OnStreamErrorAsync),
        StreamNames.DnsMetricsNamespace => handles.Create<DnsMetricsBatch>().ResumeAsync((item, _) => Host.Definition is not null && item.ServerId == Host.Id ? IngestDnsAsync(item) : Task.CompletedTask, OnStreamErrorAsync),
        _ => handles.Create<MetricsBatch>().ResumeAsync((item, _) => Host.Definition is not null && item.ServerId == Host.Id ? IngestAsync(item) : Task.CompletedTask, OnStreamErrorAsync),
    };

    /// <summary>The retention reminder: stale minutes re-aggregated, then every series trimmed to the retention settings.</summary>
    public override async Task OnReminderAsync(string name)
    {
        await Host.RefreshSettingsAsync();
        var now = _time.GetUtcNow();
        await ReconcileSystemAsync(now);
        var settings = Host.Settings;
        var hours = settings.AggregateRetention;
        var minutes = _options.MinuteAggregateRetention < hours ? _options.MinuteAggregateRetention : hours;
        var retention = new Retention((now - settings.RawRetention).ToUnixTimeMilliseconds(), (now - minutes).ToUnixTimeMilliseconds(), (now - hours).ToUnixTimeMilliseconds());
        foreach (var series in AllSeries)
        {
            await series.TrimAsync(retention);
        }

        _ring?.Trim(now.ToUnixTimeMilliseconds());
        if (Data.LastSampleAt != _savedLastSampleAt)
        {
            await SaveAsync();
        }
    }

    public override async Task OnDeleteAsync()
    {
        _rollupTimer?.Dispose();
        _rollupTimer = null;
        _ring = null;
        _dirtyMinutes.Clear();
        _dhcpLatest = [];
        _dhcpPublished = [];
        _dirtyHours.Clear();
        _recentMinutes.Clear();
        foreach (var series in AllSeries)
        {
            await series.DeleteAsync();
        }

        await _state.ClearStateAsync();
        _state.State = new TelemetryState();
    }

    /// <summary>Registers the retention reminder for a server created before it was registered at creation; true when it did (save the state).</summary>
    private async Task<bool> RegisterReminderIfMissingAsync()
    {
        if (Data.ReminderRegistered)
        {
            return false;
        }

        await Host.RegisterReminderAsync(RetentionReminder, _options.MetricsReminderPeriod);
        Data.ReminderRegistered = true;
        return true;
    }

    private async Task SaveAsync()
    {
        await _state.WriteStateAsync();
        _savedLastSampleAt = Data.LastSampleAt;
    }

    /// <summary>A time the series accept: not older than the aggregate retention, not further ahead than a clock may drift.</summary>
    private bool InRange(DateTimeOffset at, DateTimeOffset now) => at >= now - Host.Settings.AggregateRetention && at <= now + FutureTolerance;

    private Task OnStreamErrorAsync(Exception ex)
    {
        LogStreamError(_logger, ex, Host.Id);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Telemetry stream error for server {ServerId}")]
    private static partial void LogStreamError(ILogger logger, Exception ex, string serverId);
}

/// <summary>The telemetry part's persisted state (its own row: written when these change, not with every sample).</summary>
[GenerateSerializer, Alias("ms.TelemetryState")]
public sealed class TelemetryState
{
    /// <summary>Time of the newest stored system sample (saved on deactivation and by the retention reminder).</summary>
    [Id(0)]
    public DateTimeOffset? LastSampleAt { get; set; }

    [Id(1)]
    public long SpoolDropped { get; set; }

    /// <summary>
    /// The retention reminder is registered. Servers of earlier versions had this flag in the server record: their first
    /// ingest registers the reminder again (an idempotent update) and writes this state.
    /// </summary>
    [Id(2)]
    public bool ReminderRegistered { get; set; }
}
