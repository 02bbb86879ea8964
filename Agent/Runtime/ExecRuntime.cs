using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// Runs the host-installed <c>knotd</c>, <c>kea-dhcp4</c> and <c>kea-dhcp6</c> as processes that <b>outlive the
/// agent</b>: started in a session of their own with their output appended straight to <c>SERVICE_DIR/log/KIND.log</c>
/// (<see cref="DetachedProcess"/>; rotated at 1 MiB by the agent, one old file kept), so stopping, restarting or
/// upgrading the agent leaves them serving. What runs is described in <c>SERVICE_DIR/run/exec-process.json</c> (pid,
/// start time from <c>/proc/PID/stat</c>, boot id, executable, command line).
/// <para>
/// A restarted agent <b>adopts</b> the process that file describes (<see cref="AdoptAsync"/>) when it is that very
/// process — same boot, same pid and start time (so a reused pid is not taken for it), running the executable and the
/// command line this service would be started with — and supervises it by polling <c>/proc</c> (it is not the new
/// agent's child: its death is seen as the pid gone, a zombie or another start time; its exit status is unknown).
/// A process that is this service but not as described (another executable after a package upgrade, another command
/// line, or the <c>run/agent.pid</c> of an older agent) is stopped and the service started afresh. A graceful agent
/// stop (<see cref="DisposeAsync"/>) leaves the services running.
/// </para>
/// </summary>
internal sealed class ExecRuntime : IServiceRuntime
{
    /// <summary>The description of the running process, in the service's run directory.</summary>
    public const string ProcessFileName = "exec-process.json";

    /// <summary>An older agent's pid file (pid only): such a process is stopped, not adopted.</summary>
    public const string LegacyPidFileName = "agent.pid";

    private static readonly string[] DefaultSearchDirectories = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];

    private readonly string? _binDirectory;
    private readonly ServiceEngines _engines;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServiceSpec> _specs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Child> _children = new(StringComparer.Ordinal);

    /// <param name="binDirectory">Where to look for the binaries first (else PATH, then /usr/sbin and friends).</param>
    /// <param name="logger">Where runtime events go.</param>
    /// <param name="engines">The service engines (daemon names, version probes); the built-in ones when null.</param>
    public ExecRuntime(string? binDirectory, ILogger logger, ServiceEngines? engines = null)
    {
        _engines = engines ?? ServiceEngines.BuiltIn;
        _binDirectory = binDirectory;
        _logger = logger;
    }

    public string Name => RuntimeNames.Exec;

    public async Task<IReadOnlyList<string>> AvailableVersionsAsync(string kind, CancellationToken cancellationToken)
    {
        var engine = _engines.Get(kind);
        var binary = FindBinary(engine.Daemon);
        if (binary is null)
        {
            return [];
        }

        var (exit, output) = await RunToEndAsync(binary, engine.VersionArguments, null, TimeSpan.FromSeconds(10), cancellationToken);
        var version = exit == 0 ? engine.ParseVersion(output) : null;
        return version is null ? [] : [version];
    }

    public async Task<string> ResolveVersionAsync(string kind, string? requested, CancellationToken cancellationToken)
    {
        var daemon = _engines.Get(kind).Daemon;
        if (FindBinary(daemon) is null)
        {
            throw new ServiceRuntimeException($"{daemon} is not installed on this host (looked in {string.Join(", ", SearchDirectories())})");
        }

        var available = await AvailableVersionsAsync(kind, cancellationToken);
        if (available.Count == 0)
        {
            throw new ServiceRuntimeException($"cannot tell the version of {daemon} on this host");
        }

        if (requested is null || string.Equals(requested, available[0], StringComparison.Ordinal))
        {
            return available[0];
        }

        throw new ServiceRuntimeException($"{kind} version {requested} is not installed on this host; the host has {daemon} {available[0]} (the exec runtime runs the installed package)");
    }

    public async Task ValidateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        var binary = FindBinary(spec.CheckCommand[0]) ?? throw new ServiceRuntimeException($"{spec.CheckCommand[0]} is not installed on this host");
        var (exit, output) = await RunToEndAsync(binary, spec.CheckCommand.Skip(1).ToArray(), spec.Environment, TimeSpan.FromSeconds(30), cancellationToken);
        if (exit != 0)
        {
            throw new ServiceRuntimeException($"configuration check failed ({string.Join(' ', spec.CheckCommand)}, exit {exit}): {Trim(output)}");
        }
    }

    public async Task CreateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        await RemoveAsync(spec.Kind, cancellationToken);
        lock (_lock)
        {
            _specs[spec.Kind] = spec;
        }
    }

    public async Task StartAsync(string kind, CancellationToken cancellationToken)
    {
        ServiceSpec spec;
        lock (_lock)
        {
            spec = _specs.GetValueOrDefault(kind) ?? throw new ServiceRuntimeException($"{kind} was not created");
            if (_children.TryGetValue(kind, out var running) && IsAlive(running))
            {
                return;
            }
        }

        await StopStaleAsync(spec, cancellationToken);
        var binary = FindBinary(spec.Command[0]) ?? throw new ServiceRuntimeException($"{spec.Command[0]} is not installed on this host");
        Directory.CreateDirectory(Path.Combine(spec.ServiceDirectory, "log"));
        var log = LogPath(spec);
        BoundedLogFile.RotateIfLarge(log);
        string[] argv = [binary, .. spec.Command.Skip(1)];
        var pid = DetachedProcess.Spawn(binary, argv, spec.Environment, spec.ServiceDirectory, log);
        var startedAt = DateTimeOffset.UtcNow;
        var child = new Child(pid, DetachedProcess.Identify(pid)?.StartTicks ?? -1, startedAt, Ours: true);
        BoundedLogFile.AppendLine(log, $"--- {startedAt:O} agent started {string.Join(' ', spec.Command)} (pid {pid})");
        WriteProcessFile(spec, new ExecProcessState(pid, child.StartTicks, DetachedProcess.BootId, binary, argv, startedAt));
        lock (_lock)
        {
            _children[kind] = child;
        }
    }

    public async Task StopAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        Child? child;
        lock (_lock)
        {
            child = _children.GetValueOrDefault(kind);
        }

        if (child is not null)
        {
            await StopAsync(kind, child, grace, cancellationToken);
        }
    }

    /// <summary>SIGTERM to the process, SIGKILL to its process group after <paramref name="grace"/>; each only while it still is that process.</summary>
    private async Task StopAsync(string kind, Child child, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (!IsAlive(child))
        {
            return;
        }

        ProcessSignals.Send(child.Pid, ProcessSignals.SigTerm);
        if (await ExitsWithinAsync(child, grace, cancellationToken))
        {
            return;
        }

        _logger.ServiceKilledAfterGrace(kind, child.Pid, grace.TotalSeconds);
        if (IsAlive(child))
        {
            ProcessSignals.Send(-child.Pid, ProcessSignals.SigKill); // its own process group (session leader): helpers too
            ProcessSignals.Send(child.Pid, ProcessSignals.SigKill);
        }

        await ExitsWithinAsync(child, TimeSpan.FromSeconds(10), cancellationToken);
    }

    private async Task<bool> ExitsWithinAsync(Child child, TimeSpan limit, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (IsAlive(child))
        {
            if (watch.Elapsed >= limit)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken);
        }

        return true;
    }

    public async Task RestartAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        await StopAsync(kind, grace, cancellationToken);
        await StartAsync(kind, cancellationToken);
    }

    public Task<RuntimeState> InspectAsync(string kind, CancellationToken cancellationToken)
    {
        ServiceSpec? spec;
        Child? child;
        lock (_lock)
        {
            spec = _specs.GetValueOrDefault(kind);
            child = _children.GetValueOrDefault(kind);
        }

        if (spec is null)
        {
            return Task.FromResult(new RuntimeState(false, false));
        }

        BoundedLogFile.RotateIfLarge(LogPath(spec)); // the supervision pass asks every second: the log's bound is kept here
        if (child is null)
        {
            return Task.FromResult(new RuntimeState(true, false, Version: spec.Version));
        }

        return Task.FromResult(IsAlive(child)
            ? new RuntimeState(true, true, StartedAt: child.StartedAt, Version: spec.Version)
            : new RuntimeState(true, false, child.ExitCode, child.Ended, child.StartedAt, spec.Version));
    }

    /// <summary>The pid of a running child (tests kill it to simulate a crash), or null.</summary>
    public int? ProcessId(string kind)
    {
        lock (_lock)
        {
            return _children.TryGetValue(kind, out var child) && IsAlive(child) ? child.Pid : null;
        }
    }

    public Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken)
    {
        ServiceSpec? spec;
        lock (_lock)
        {
            spec = _specs.GetValueOrDefault(kind);
        }

        return spec is null ? Task.FromResult(string.Empty) : BoundedLogFile.ReadTailAsync(LogPath(spec), maxBytes, cancellationToken);
    }

    public async Task RemoveAsync(string kind, CancellationToken cancellationToken)
    {
        await StopAsync(kind, TimeSpan.FromSeconds(10), cancellationToken);
        lock (_lock)
        {
            _children.Remove(kind);
            if (_specs.Remove(kind, out var spec))
            {
                TryDelete(ProcessPath(spec));
            }
        }
    }

    public async Task<bool> AdoptAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _specs[spec.Kind] = spec;
        }

        if (ReadProcessFile(spec) is { } state)
        {
            var reason = WhyNotAdopted(spec, state);
            if (reason is null)
            {
                lock (_lock)
                {
                    _children[spec.Kind] = new Child(state.Pid, state.StartTicks, state.StartedAt, Ours: false);
                }

                _logger.ServiceProcessAdopted(spec.Kind, state.Pid, state.StartedAt);
                return true;
            }

            _logger.ServiceProcessNotAdopted(spec.Kind, state.Pid, reason);
        }

        // Not adopted: a process that still is this service is stopped; the caller starts the service again.
        await StopStaleAsync(spec, cancellationToken);
        return false;
    }

    /// <summary>Null when the described process is running as this service would be started now; else why it is not adopted.</summary>
    private string? WhyNotAdopted(ServiceSpec spec, ExecProcessState state)
    {
        var binary = FindBinary(spec.Command[0]);
        string[] argv = binary is null ? [] : [binary, .. spec.Command.Skip(1)];
        var running = DetachedProcess.Identify(state.Pid);
        return state.BootId != DetachedProcess.BootId ? "the host rebooted since"
            : running is not { Alive: true } ? "it no longer runs"
            : running.StartTicks != state.StartTicks ? "the pid now belongs to another process (another start time)"
            : binary is null ? $"{spec.Command[0]} is no longer installed"
            : running.Executable != binary || state.Executable != binary ? $"it runs {running.Executable ?? "an unreadable executable"}, not {binary} (upgraded or moved)"
            : !running.CommandLine.SequenceEqual(argv, StringComparer.Ordinal) || !state.CommandLine.SequenceEqual(argv, StringComparer.Ordinal) ? "its command line is not this service's"
            : null;
    }

    public Task RemoveOrphansAsync(IReadOnlyCollection<string> installedKinds, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<RuntimeHealth> CheckAsync(CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var missing = new List<string>();
        foreach (var engine in _engines.All)
        {
            var (kind, daemon) = (engine.Kind, engine.Daemon);
            var versions = await AvailableVersionsAsync(kind, cancellationToken);
            if (versions.Count > 0)
            {
                found.Add($"{daemon} {versions[0]}");
            }
            else
            {
                missing.Add(daemon);
            }
        }

        var description = $"exec runtime: found {(found.Count > 0 ? string.Join(", ", found) : "nothing")}"
            + (missing.Count > 0 ? $"; not installed: {string.Join(", ", missing)}" : string.Empty);
        return new RuntimeHealth(found.Count > 0, description);
    }

    public async Task<ToolResult> RunToolAsync(string kind, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var binary = FindBinary(argv[0]);
        if (binary is null)
        {
            return new ToolResult(ToolResult.NotFound, $"{argv[0]} is not installed on this host (looked in {string.Join(", ", SearchDirectories())})");
        }

        var (exit, output) = await RunToEndAsync(binary, [.. argv.Skip(1)], null, timeout, cancellationToken);
        return new ToolResult(exit, output);
    }

    public Task<ToolResult> RunToolInVersionAsync(string kind, string version, string serviceDirectory, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunToolAsync(kind, argv, timeout, cancellationToken);

    /// <summary>Leaves the services running (they outlive the agent; the next agent adopts them) and forgets them.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _children.Clear();
            _specs.Clear();
        }

        return ValueTask.CompletedTask;
    }

    internal string? FindBinary(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : null;
        }

        return SearchDirectories().Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }

    private IEnumerable<string> SearchDirectories()
    {
        if (_binDirectory is not null)
        {
            yield return _binDirectory;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return dir;
        }

        foreach (var dir in DefaultSearchDirectories)
        {
            yield return dir;
        }
    }

    /// <summary>
    /// Stops a process an earlier agent left for this service and that is not this runtime's child now: the one its
    /// process file describes (same boot, pid and start time), or the one an older agent's <c>agent.pid</c> names when its
    /// command line is still this service's (pids are reused). Then forgets both files.
    /// </summary>
    private async Task StopStaleAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        var stale = new List<Child>();
        if (ReadProcessFile(spec) is { } state && state.BootId == DetachedProcess.BootId
            && DetachedProcess.Identify(state.Pid) is { Alive: true } running && running.StartTicks == state.StartTicks)
        {
            stale.Add(new Child(state.Pid, state.StartTicks, state.StartedAt, Ours: false));
        }

        var legacy = Path.Combine(spec.ServiceDirectory, "run", LegacyPidFileName);
        if (File.Exists(legacy) && int.TryParse(File.ReadAllText(legacy).Trim(), CultureInfo.InvariantCulture, out var pid)
            && DetachedProcess.Identify(pid) is { Alive: true } old
            && old.CommandLine.Count > 0 && Path.GetFileName(old.CommandLine[0]) == Path.GetFileName(spec.Command[0]) && spec.Command.Skip(1).All(old.CommandLine.Contains))
        {
            stale.Add(new Child(pid, old.StartTicks, DateTimeOffset.UtcNow, Ours: false));
        }

        foreach (var process in stale)
        {
            lock (_lock)
            {
                if (_children.TryGetValue(spec.Kind, out var own) && own.Pid == process.Pid && own.StartTicks == process.StartTicks)
                {
                    continue; // ours now
                }
            }

            _logger.StaleServiceProcess(spec.Kind, process.Pid);
            await StopAsync(spec.Kind, process, TimeSpan.FromSeconds(10), cancellationToken);
        }

        TryDelete(legacy);
        lock (_lock)
        {
            if (!(_children.TryGetValue(spec.Kind, out var own) && IsAlive(own)))
            {
                TryDelete(ProcessPath(spec));
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="child"/> still runs; the first time it is found gone, how it ended is kept: the exit
    /// status when it was this process's child (reaped here), else only that it ended.
    /// </summary>
    private static bool IsAlive(Child child)
    {
        lock (child)
        {
            if (child.Ended is not null)
            {
                return false;
            }

            if (child.Ours && DetachedProcess.TryReap(child.Pid, out var how, out var code))
            {
                (child.Ended, child.ExitCode) = (how, code);
                return false;
            }

            if (DetachedProcess.Identify(child.Pid) is { Alive: true } running && running.StartTicks == child.StartTicks)
            {
                return true;
            }

            DetachedProcess.TryReap(child.Pid, out _, out _); // a zombie child: reaped now
            child.Ended = child.Ours ? "exited (its exit status was not seen)" : "exited (it was started by an earlier agent process: its exit status is unknown)";
            return false;
        }
    }

    private static ExecProcessState? ReadProcessFile(ServiceSpec spec)
    {
        try
        {
            var path = ProcessPath(spec);
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), ExecProcessJson.Default.ExecProcessState) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static void WriteProcessFile(ServiceSpec spec, ExecProcessState state) =>
        AtomicFile.WriteAllBytes(ProcessPath(spec), JsonSerializer.SerializeToUtf8Bytes(state, ExecProcessJson.Default.ExecProcessState), AtomicFile.OwnerOnly);

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(string binary, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new ServiceRuntimeException($"{binary} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new ServiceRuntimeException($"{binary} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static string Trim(string output)
    {
        var text = output.Trim();
        return text.Length > 2000 ? text[..2000] + "…" : text;
    }

    private static string ProcessPath(ServiceSpec spec) => Path.Combine(spec.ServiceDirectory, "run", ProcessFileName);

    private static string LogPath(ServiceSpec spec) => Path.Combine(spec.ServiceDirectory, "log", spec.Kind + ".log");

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A service process: this runtime's child (<paramref name="Ours"/>: it can be reaped) or adopted. Guarded by its own lock.</summary>
    private sealed record Child(int Pid, long StartTicks, DateTimeOffset StartedAt, bool Ours)
    {
        /// <summary>How it ended, once seen gone; null while it runs.</summary>
        public string? Ended { get; set; }

        public int? ExitCode { get; set; }
    }

}

/// <summary>What <c>run/exec-process.json</c> says about the process of a service (see <see cref="ExecRuntime"/>).</summary>
internal sealed record ExecProcessState(int Pid, long StartTicks, string BootId, string Executable, IReadOnlyList<string> CommandLine, DateTimeOffset StartedAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ExecProcessState))]
internal sealed partial class ExecProcessJson : JsonSerializerContext;
