using System.Reflection;

namespace ManagedServers.Agent;

/// <summary>Facts about this agent process: version, host, OS, boot id and uptime.</summary>
internal sealed class AgentInfo
{
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private readonly System.Threading.Channels.Channel<bool> _nudges = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    private long _sequence;

    public AgentInfo(TimeProvider time)
    {
        _time = time;
        _startedAt = time.GetTimestamp();
    }

    /// <summary>Assembly informational version without the <c>+commit</c> suffix.</summary>
    public static string Version { get; } = ReadVersion();

    public static string? Hostname { get; } = ReadHostname();

    /// <summary>PRETTY_NAME from /etc/os-release, or the runtime's OS description.</summary>
    public static string? Os { get; } = ReadOs("/etc/os-release");

    /// <summary>The kernel release (what <c>uname -r</c> prints), from <c>/proc/sys/kernel/osrelease</c>; null when unreadable.</summary>
    public static string? Kernel { get; } = ReadFirstLine("/proc/sys/kernel/osrelease");

    /// <summary>New for every agent process, so the control plane can tell restarts apart.</summary>
    public Guid BootId { get; } = Guid.NewGuid();

    public long UptimeSeconds => (long)_time.GetElapsedTime(_startedAt).TotalSeconds;

    /// <summary>The agent's opt-in Prometheus address (host:port), reported in heartbeats; null when off.</summary>
    public string? MetricsAddress { get; set; }

    /// <summary>The services the agent runs, reported in every heartbeat (set by the service manager; null = none).</summary>
    public Services.IServiceInventory? Services { get; set; }

    /// <summary>The commands running now, reported in every heartbeat while they run (set by the host; null = none).</summary>
    public Commands.CommandProgressBoard? Progress { get; set; }

    /// <summary>
    /// The next heartbeat sequence number of this process, shared by every way a heartbeat leaves (pushed over
    /// HTTPS or AMQP, or answered to a pull), so the control plane sees one rising sequence per boot id.
    /// </summary>
    public long NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Asks for a heartbeat now (a service changed state), so the control plane hears of it in seconds, not at the next interval.</summary>
    public void NudgeHeartbeat() => _nudges.Writer.TryWrite(true);

    /// <summary>Waits until <paramref name="delay"/> has passed or a heartbeat was asked for; false when <paramref name="cancellationToken"/> ends the wait.</summary>
    public async Task<bool> WaitForHeartbeatDueAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero && !_nudges.Reader.TryRead(out _))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var elapsed = Task.Delay(delay, _time, stop.Token);
            var nudged = _nudges.Reader.WaitToReadAsync(stop.Token).AsTask();
            await Task.WhenAny(elapsed, nudged);
            await stop.CancelAsync();
            _nudges.Reader.TryRead(out _);
        }

        return !cancellationToken.IsCancellationRequested;
    }

    /// <summary>A heartbeat of this process, whichever transport carries it, with the settings in force.</summary>
    public ManagedServers.Contracts.Agent.Heartbeat NewHeartbeat(Hosting.AgentRuntimeSettings settings, long sequence, bool stopping) => new(
        settings.ServerId,
        Guid.NewGuid(),
        BootId,
        sequence,
        _time.GetUtcNow(),
        Version,
        UptimeSeconds,
        Hostname,
        Os,
        Stopping: stopping,
        MetricsAddress: MetricsAddress,
        HeartbeatIntervalSeconds: settings.Current.HeartbeatIntervalSeconds,
        Monitoring: settings.Monitoring,
        Versions: Services is { } services ? VersionsOf(services.Statuses()) : null,
        Services: Services?.Statuses(),
        Progress: Progress?.Snapshot());

    private static Dictionary<string, string?> VersionsOf(IReadOnlyList<ManagedServers.Contracts.Agent.ServiceStatus> services)
    {
        var versions = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            versions[service.Kind] = service.Version;
        }

        return versions;
    }

    internal static string StripBuildMetadata(string version)
    {
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? version[..plus] : version;
    }

    internal static string? ReadPrettyName(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            if (!line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                continue;
            }

            var value = line["PRETTY_NAME=".Length..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            return value.Length > 0 ? value : null;
        }

        return null;
    }

    private static string ReadVersion()
    {
        var assembly = typeof(AgentInfo).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return StripBuildMetadata(informational ?? assembly.GetName().Version?.ToString() ?? "0.0.0");
    }

    private static string? ReadHostname()
    {
        try
        {
            return System.Net.Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return Environment.MachineName;
        }
    }

    private static string? ReadFirstLine(string file)
    {
        try
        {
            var line = File.Exists(file) ? File.ReadLines(file).FirstOrDefault()?.Trim() : null;
            return string.IsNullOrEmpty(line) ? null : line;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadOs(string file)
    {
        try
        {
            if (File.Exists(file) && ReadPrettyName(File.ReadLines(file)) is { } pretty)
            {
                return pretty;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return System.Runtime.InteropServices.RuntimeInformation.OSDescription;
    }
}
