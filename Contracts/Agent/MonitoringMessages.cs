namespace ManagedServers.Contracts.Agent;

/// <summary>
/// One system sample: its time and flat metric values (names in <see cref="SystemMetricNames"/>). Per-mount
/// metrics carry the mount in brackets, e.g. <c>disk.used_percent[/var]</c>. A collector that failed simply
/// leaves its metrics out; a sample is never refused for missing metrics.
/// </summary>
public sealed record SystemSample(DateTimeOffset Time, IReadOnlyDictionary<string, double> Values);

/// <summary>
/// Samples sent together (push: HTTPS POST or AMQP kind <c>metrics</c>). Samples are in time order and
/// the control plane stores each (server, sample time) once, so a batch sent twice changes nothing;
/// <see cref="BatchId"/> names the attempt in logs. <see cref="DroppedTotal"/> counts samples the agent's
/// spool ever dropped because it was full (oldest first).
/// </summary>
public sealed record MetricsBatch(
    string ServerId,
    Guid BatchId,
    IReadOnlyList<SystemSample> Samples,
    long DroppedTotal = 0);

/// <summary>What the agent collects and how often; sent in heartbeat acks (HTTPS) or a <c>configure</c> command (AMQP).</summary>
public sealed record AgentMonitoringConfig(
    bool SystemMonitoring,
    int SystemIntervalSeconds,
    bool DnsMonitoring,
    int DnsIntervalSeconds,
    bool DhcpMonitoring = true,
    int DhcpIntervalSeconds = 60)
{
    public static AgentMonitoringConfig Default { get; } = new(true, 5, true, 60, true, 60);
}

/// <summary>Arguments of the <c>configure</c> command: the settings an AMQP agent follows without restart.</summary>
public sealed record ConfigureArgs(int HeartbeatIntervalSeconds, AgentMonitoringConfig Monitoring);

/// <summary>Metric names of <see cref="SystemSample"/>. Units are in the names; percentages are 0–100.</summary>
public static class SystemMetricNames
{
    public const string CpuCount = "cpu.count";
    public const string Load1 = "cpu.load1";
    public const string Load5 = "cpu.load5";
    public const string Load15 = "cpu.load15";
    public const string CpuUsage = "cpu.usage_percent";
    public const string CpuUser = "cpu.user_percent";
    public const string CpuSystem = "cpu.system_percent";
    public const string CpuIowait = "cpu.iowait_percent";
    public const string MemoryTotal = "memory.total_bytes";
    public const string MemoryAvailable = "memory.available_bytes";
    public const string MemoryUsed = "memory.used_bytes";
    public const string MemoryUsedPercent = "memory.used_percent";
    public const string MemoryBuffers = "memory.buffers_bytes";
    public const string MemoryCached = "memory.cached_bytes";
    public const string SwapTotal = "swap.total_bytes";
    public const string SwapUsed = "swap.used_bytes";
    public const string SwapUsedPercent = "swap.used_percent";
    public const string VmCommitted = "vm.committed_bytes";
    public const string VmCommitLimit = "vm.commit_limit_bytes";
    public const string VmCommittedPercent = "vm.committed_percent";
    public const string DiskTotal = "disk.total_bytes";
    public const string DiskUsed = "disk.used_bytes";
    public const string DiskFree = "disk.free_bytes";
    public const string DiskUsedPercent = "disk.used_percent";
    public const string DiskInodesUsedPercent = "disk.inodes_used_percent";

    /// <summary>TCP sockets by state: <c>net.tcp.{state}</c>, state one of <see cref="TcpStates"/>.</summary>
    public const string TcpPrefix = "net.tcp.";
    public const string TcpTotal = "net.tcp.total";
    public const string UdpSockets = "net.udp.sockets";
    public const string Listening = "net.listening";
    public const string SocketsUsed = "net.sockets_used";
    public const string Uptime = "uptime.seconds";

    public static readonly string[] TcpStates =
        ["established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait", "close", "close_wait", "last_ack", "listen", "closing"];

    /// <summary>A per-mount metric name: <c>disk.used_percent[/var]</c>.</summary>
    public static string PerMount(string metric, string mount) => metric + "[" + mount + "]";
}
