using System.Diagnostics;
using System.Globalization;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// Runs the host-installed <c>knotd</c>, <c>kea-dhcp4</c> and <c>kea-dhcp6</c> as child processes of the agent.
/// Output (stdout and stderr) goes to <c>SERVICE_DIR/log/KIND.log</c>, rotated at 1 MiB with one old file kept.
/// The child's pid is written to <c>SERVICE_DIR/run/agent.pid</c>.
/// <para>
/// When the agent dies: .NET cannot set <c>PR_SET_PDEATHSIG</c> on a child (and the signal would follow the forking
/// thread, not the process, so a retired thread-pool thread would kill the service). Instead, a child left behind is
/// found through its pid file at the next agent start (<see cref="AdoptAsync"/>: the pid's <c>/proc/PID/cmdline</c>
/// must still be the service binary with this service's config), stopped, and started again under the new agent.
/// Under systemd the unit's default <c>KillMode=control-group</c> also stops the children with the agent. On a
/// graceful agent stop (<see cref="DisposeAsync"/>) the children are stopped: nothing would supervise them.
/// </para>
/// </summary>
internal sealed class ExecRuntime : IServiceRuntime
{
    private static readonly string[] DefaultSearchDirectories = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];

    private readonly string? _binDirectory;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServiceSpec> _specs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Child> _children = new(StringComparer.Ordinal);

    /// <param name="binDirectory">Where to look for the binaries first (else PATH, then /usr/sbin and friends).</param>
    /// <param name="logger">Where runtime events go.</param>
    public ExecRuntime(string? binDirectory, ILogger logger)
    {
        _binDirectory = binDirectory;
        _logger = logger;
    }

    public string Name => RuntimeNames.Exec;

    public async Task<IReadOnlyList<string>> AvailableVersionsAsync(string kind, CancellationToken cancellationToken)
    {
        var binary = FindBinary(DaemonOf(kind));
        if (binary is null)
        {
            return [];
        }

        var (exit, output) = await RunToEndAsync(binary, [kind == ServiceKinds.Dns ? "--version" : "-v"], null, TimeSpan.FromSeconds(10), cancellationToken);
        var version = exit == 0 ? ParseVersion(kind, output) : null;
        return version is null ? [] : [version];
    }

    public async Task<string> ResolveVersionAsync(string kind, string? requested, CancellationToken cancellationToken)
    {
        var daemon = DaemonOf(kind);
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
            if (_children.TryGetValue(kind, out var running) && !running.Process.HasExited)
            {
                return;
            }
        }

        await StopStaleAsync(spec, cancellationToken);
        var binary = FindBinary(spec.Command[0]) ?? throw new ServiceRuntimeException($"{spec.Command[0]} is not installed on this host");
        var logDirectory = Path.Combine(spec.ServiceDirectory, "log");
        Directory.CreateDirectory(logDirectory);
        var log = new BoundedLogFile(LogPath(spec));
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = spec.ServiceDirectory,
        };
        foreach (var arg in spec.Command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in spec.Environment)
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new ServiceRuntimeException($"{binary} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.Dispose();
            throw new ServiceRuntimeException($"cannot start {binary}: {e.Message}", e);
        }

        process.StandardInput.Close();
        var startedAt = DateTimeOffset.UtcNow;
        log.WriteLine($"--- {startedAt:O} agent started {string.Join(' ', spec.Command)} (pid {process.Id})");
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput.BaseStream, log), PumpAsync(process.StandardError.BaseStream, log));
        File.WriteAllText(PidPath(spec), process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        lock (_lock)
        {
            if (_children.Remove(kind, out var old))
            {
                old.Dispose();
            }

            _children[kind] = new Child(process, startedAt, log, pumps);
        }
    }

    public async Task StopAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        Child? child;
        lock (_lock)
        {
            child = _children.GetValueOrDefault(kind);
        }

        if (child is null || child.Process.HasExited)
        {
            return;
        }

        ProcessSignals.Send(child.Process.Id, ProcessSignals.SigTerm);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(grace);
        try
        {
            await child.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.ServiceKilledAfterGrace(kind, child.Process.Id, grace.TotalSeconds);
            child.Process.Kill();
            await child.Process.WaitForExitAsync(cancellationToken);
        }
    }

    public async Task RestartAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        await StopAsync(kind, grace, cancellationToken);
        await StartAsync(kind, cancellationToken);
    }

    public Task<RuntimeState> InspectAsync(string kind, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_specs.TryGetValue(kind, out var spec))
            {
                return Task.FromResult(new RuntimeState(false, false));
            }

            if (!_children.TryGetValue(kind, out var child))
            {
                return Task.FromResult(new RuntimeState(true, false, Version: spec.Version));
            }

            if (!child.Process.HasExited)
            {
                return Task.FromResult(new RuntimeState(true, true, StartedAt: child.StartedAt, Version: spec.Version));
            }

            var code = child.Process.ExitCode;
            var error = code > 128 ? $"killed by signal {code - 128}" : $"exited with code {code}";
            return Task.FromResult(new RuntimeState(true, false, code, error, child.StartedAt, spec.Version));
        }
    }

    /// <summary>The pid of a running child (tests kill it to simulate a crash), or null.</summary>
    public int? ProcessId(string kind)
    {
        lock (_lock)
        {
            return _children.TryGetValue(kind, out var child) && !child.Process.HasExited ? child.Process.Id : null;
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
            if (_children.Remove(kind, out var child))
            {
                child.Dispose();
            }

            if (_specs.Remove(kind, out var spec))
            {
                TryDelete(PidPath(spec));
            }
        }
    }

    public async Task<bool> AdoptAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        // A process left by a previous agent cannot be waited for nor its output captured: stop it; the caller starts
        // the service again.
        await StopStaleAsync(spec, cancellationToken);
        lock (_lock)
        {
            _specs[spec.Kind] = spec;
        }

        return false;
    }

    public Task RemoveOrphansAsync(IReadOnlyCollection<string> installedKinds, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<RuntimeHealth> CheckAsync(CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var missing = new List<string>();
        foreach (var kind in ServiceKinds.All)
        {
            var daemon = DaemonOf(kind);
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

    public async ValueTask DisposeAsync()
    {
        string[] kinds;
        lock (_lock)
        {
            kinds = [.. _children.Keys];
        }

        foreach (var kind in kinds)
        {
            try
            {
                await StopAsync(kind, TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                _logger.ServiceStopFailed(kind, e.Message);
            }
        }

        lock (_lock)
        {
            foreach (var child in _children.Values)
            {
                child.Dispose();
            }

            _children.Clear();
        }
    }

    internal static string DaemonOf(string kind) => kind switch
    {
        ServiceKinds.Dns => "knotd",
        ServiceKinds.Dhcp4 => "kea-dhcp4",
        ServiceKinds.Dhcp6 => "kea-dhcp6",
        _ => throw new ServiceRuntimeException($"unknown service kind '{kind}'"),
    };

    /// <summary>"knotd (Knot DNS), version 3.2.6" → 3.2.6; Kea's <c>-v</c> prints the bare version.</summary>
    internal static string? ParseVersion(string kind, string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (line is null)
        {
            return null;
        }

        if (kind == ServiceKinds.Dns)
        {
            var at = line.LastIndexOf("version ", StringComparison.Ordinal);
            return at < 0 ? null : line[(at + "version ".Length)..].Trim();
        }

        return line;
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

    private async Task StopStaleAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        var pidFile = PidPath(spec);
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        lock (_lock)
        {
            if (_children.TryGetValue(spec.Kind, out var own) && own.Process.Id == pid)
            {
                return; // ours (exited or not): not stale
            }
        }

        // Only a process that still is this service (same binary name, same config) is killed: pids are reused.
        var cmdline = ProcessSignals.CommandLine(pid);
        var isOurs = cmdline is not null
            && Path.GetFileName(cmdline[0]) == Path.GetFileName(spec.Command[0])
            && spec.Command.Skip(1).All(cmdline.Contains);
        if (isOurs)
        {
            _logger.StaleServiceProcess(spec.Kind, pid);
            ProcessSignals.Send(pid, ProcessSignals.SigTerm);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (ProcessSignals.CommandLine(pid) is not null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }

            if (ProcessSignals.CommandLine(pid) is not null)
            {
                ProcessSignals.Send(pid, ProcessSignals.SigKill);
                while (ProcessSignals.CommandLine(pid) is not null && DateTime.UtcNow < deadline.AddSeconds(5))
                {
                    await Task.Delay(50, cancellationToken);
                }
            }
        }

        TryDelete(pidFile);
    }

    private static async Task PumpAsync(Stream source, BoundedLogFile log)
    {
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                log.Write(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

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

    private static string PidPath(ServiceSpec spec) => Path.Combine(spec.ServiceDirectory, "run", "agent.pid");

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

    private sealed record Child(Process Process, DateTimeOffset StartedAt, BoundedLogFile Log, Task Pumps) : IDisposable
    {
        public void Dispose()
        {
            Pumps.Wait(TimeSpan.FromSeconds(2));
            Process.Dispose();
            Log.Dispose();
        }
    }
}
