namespace ManagedServers.Contracts.Agent;

/// <summary>The services an agent runs. Names are the wire names (API, commands, heartbeats, versions).</summary>
public static class ServiceKinds
{
    public const string Dns = "dns";
    public const string Dhcp4 = "dhcp4";
    public const string Dhcp6 = "dhcp6";

    public static IReadOnlyList<string> All { get; } = [Dns, Dhcp4, Dhcp6];

    public static bool IsKnown(string? kind) => kind is Dns or Dhcp4 or Dhcp6;
}

/// <summary>A service's state as its agent sees it.</summary>
public static class ServiceStates
{
    /// <summary>Running (for the exec runtime: the process is alive; for docker: the container runs).</summary>
    public const string Running = "running";

    /// <summary>Stopped on purpose (stop command); the agent leaves it stopped.</summary>
    public const string Stopped = "stopped";

    /// <summary>Should run but does not (exited, killed, failed to start); the agent restarts it with backoff.</summary>
    public const string Failed = "failed";
}

/// <summary>How the agent runs services: containers through the local Docker Engine, or host processes it supervises.</summary>
public static class RuntimeNames
{
    public const string Docker = "docker";
    public const string Exec = "exec";

    /// <summary>In <c>service.install</c>: the runtime the agent already uses, else docker where its engine answers, else exec.</summary>
    public const string Auto = "auto";
}

/// <summary>
/// <c>service.install</c>: install (or update to <see cref="Version"/>) and start one service. <see cref="Version"/>
/// null = the newest the host has (docker: newest local image of the component; exec: the installed package).
/// <see cref="ListenAddress"/>/<see cref="Port"/>: where a DNS service answers (default all addresses, 53); for DHCP,
/// where the control socket/ports go is the runtime's default unless given. <see cref="Listen"/> (DNS): Knot listen entries
/// <c>address@port</c>; when set it wins over <see cref="ListenAddress"/>/<see cref="Port"/>. <see cref="Interfaces"/>
/// (DHCP): the interfaces Kea serves (they replace <c>interfaces-config</c> of every configuration the agent applies);
/// <see cref="Port"/> then is the port Kea listens on (<c>-p</c>).
/// </summary>
public sealed record ServiceInstallArgs(
    string Kind,
    string Runtime,
    string? Version = null,
    string? ListenAddress = null,
    int? Port = null,
    IReadOnlyList<string>? Listen = null,
    IReadOnlyList<string>? Interfaces = null);

/// <summary><c>service.start</c>, <c>service.stop</c>, <c>service.restart</c>, <c>service.remove</c>: the service to act on.</summary>
public sealed record ServiceActionArgs(string Kind);

/// <summary>
/// One service as its agent reports it, in every heartbeat and in the output of service commands.
/// <see cref="Since"/>: when it entered <see cref="State"/>; <see cref="RestartCount"/>: restarts the agent made after a
/// crash (not operator restarts) since the service was installed; <see cref="Listen"/>: address:port it answers on.
/// </summary>
public sealed record ServiceStatus(
    string Kind,
    string State,
    DateTimeOffset Since,
    int RestartCount,
    string? Version,
    string Runtime,
    string? Error = null,
    string? Listen = null);

/// <summary>Output of the service commands: the service afterwards and the steps taken (shown in the job log).</summary>
public sealed record ServiceCommandOutput(ServiceStatus? Service, IReadOnlyList<string> Steps);

/// <summary>Diagnostic check outcomes.</summary>
public static class CheckStatuses
{
    public const string Pass = "pass";
    public const string Warn = "warn";
    public const string Fail = "fail";
}

/// <summary>One diagnostic check: <see cref="Status"/> pass|warn|fail, what was found, and what to do about it.</summary>
public sealed record DiagnosticCheck(string Name, string Status, string Message, string? Hint = null);

/// <summary>Output of <c>diagnostics</c>.</summary>
public sealed record DiagnosticsReport(DateTimeOffset At, IReadOnlyList<DiagnosticCheck> Checks);

/// <summary><c>debug-bundle</c>: bounds for the bundle (compressed size) and for each log in it.</summary>
public sealed record DebugBundleArgs(int MaxBytes = DebugBundleArgs.DefaultMaxBytes, int LogBytes = DebugBundleArgs.DefaultLogBytes)
{
    public const int DefaultMaxBytes = 8 * 1024 * 1024;
    public const int DefaultLogBytes = 1024 * 1024;
}

/// <summary>
/// Output of <c>debug-bundle</c>: the tar.gz (base64), its size and SHA-256, the files in it, and whether anything
/// was cut to stay within the bounds.
/// </summary>
public sealed record DebugBundleOutput(long Size, string Sha256, IReadOnlyList<string> Files, bool Truncated, string BundleBase64);

/// <summary>
/// A command the agent is running, as its heartbeats report it while it runs: the steps so far (the result repeats them)
/// and an estimated percentage, so a job's log and progress move before the result arrives.
/// </summary>
public sealed record CommandProgress(string CommandId, int Percent, IReadOnlyList<string> Steps);
