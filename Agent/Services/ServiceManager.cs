using System.Globalization;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Services;

/// <summary>
/// Installs, runs and supervises the agent's services through one <see cref="IServiceRuntime"/> (chosen by the first
/// install, then kept in <c>services.json</c>). Operations on one kind are serialized; the supervision pass
/// (<see cref="SuperviseOnceAsync"/>) skips a kind an operation holds. A service that should run but does not is
/// reported <see cref="ServiceStates.Failed"/> and restarted after 1 s, 2 s, 4 s … (at most 60 s; the backoff resets
/// once it has run 60 s); each such restart adds one to its restart count.
/// </summary>
internal sealed class ServiceManager : IServiceInventory, IAsyncDisposable
{
    /// <summary>Per probe while waiting for a started service: short, so a query sent before the daemon listened is retried soon.</summary>

    private readonly ServiceManagerOptions _options;
    private readonly Func<string, IServiceRuntime> _runtimeFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServicesFile _file;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _runtimeGate = new(1, 1);
    private string? _runtimeName;
    private IServiceRuntime? _runtime;

    /// <param name="options">Where services live and how they are supervised.</param>
    /// <param name="runtimeFactory">Makes the runtime of a name (docker, exec).</param>
    /// <param name="time">The clock of states and backoff.</param>
    /// <param name="logger">Where service events go.</param>
    /// <param name="engines">The service engines this agent runs; the built-in ones (Knot, Kea) when null.</param>
    public ServiceManager(ServiceManagerOptions options, Func<string, IServiceRuntime> runtimeFactory, TimeProvider time, ILogger<ServiceManager> logger, ServiceEngines? engines = null)
    {
        _options = options;
        Engines = engines ?? ServiceEngines.BuiltIn;
        _runtimeFactory = runtimeFactory;
        _time = time;
        _logger = logger;
        _file = new ServicesFile(options.ServicesFile);
        var content = _file.Read();
        _runtimeName = content.Runtime;
        var now = time.GetUtcNow();
        foreach (var record in content.Services)
        {
            _entries[record.Kind] = new Entry(record, record.Desired == ServiceStates.Running ? ServiceStates.Failed : ServiceStates.Stopped, now)
            {
                Error = record.Desired == ServiceStates.Running ? "not yet checked since the agent started" : null,
            };
        }
    }

    /// <summary>The service engines, by kind.</summary>
    public ServiceEngines Engines { get; }

    public string? RuntimeName
    {
        get
        {
            lock (_lock)
            {
                return _runtimeName;
            }
        }
    }

    /// <summary>The runtime in use, or null before the first install.</summary>
    public IServiceRuntime? Runtime => Volatile.Read(ref _runtime);

    public IReadOnlyList<ServiceStatus> Statuses()
    {
        lock (_lock)
        {
            return [.. _entries.Values.OrderBy(e => e.Record.Kind, StringComparer.Ordinal).Select(StatusOf)];
        }
    }

    public ServiceStatus? Status(string kind)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(kind, out var entry) ? StatusOf(entry) : null;
        }
    }

    public IReadOnlyList<string> ConfigFiles(string kind) =>
        TryRecord(kind) is null ? [] : [Layout(kind).ConfigFile];

    public ServiceEndpoints? Endpoints(string kind)
    {
        var record = TryRecord(kind);
        if (record is null)
        {
            return null;
        }

        return Engines.Get(kind).Endpoints(Layout(kind), record);
    }

    public IReadOnlyList<DnsZoneSpec> DnsZones() =>
        TryRecord(ServiceKinds.Dns) is not null && Dns.DnsAppliedStore.Read(Layout(ServiceKinds.Dns)) is { } applied ? applied.Spec.Zones : [];

    public async Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken) =>
        TryRecord(kind) is not null && Runtime is { } runtime ? await runtime.ReadLogTailAsync(kind, maxBytes, cancellationToken) : string.Empty;

    public async Task<RuntimeHealth> CheckRuntimeAsync(CancellationToken cancellationToken) =>
        Runtime is { } runtime
            ? await runtime.CheckAsync(cancellationToken)
            : new RuntimeHealth(true, "no runtime in use yet (no service installed)");

    /// <summary>
    /// At agent start: adopts what a previous agent left running (containers as they are; exec processes when they are
    /// the ones their process file describes), removes leftovers of kinds not installed, and starts what should run.
    /// </summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var name = RuntimeName;
        if (name is null)
        {
            return;
        }

        var runtime = await EnsureRuntimeAsync(name);
        List<Entry> entries;
        lock (_lock)
        {
            entries = [.. _entries.Values];
        }

        await runtime.RemoveOrphansAsync([.. entries.Select(e => e.Record.Kind)], cancellationToken);
        foreach (var entry in entries)
        {
            var kind = entry.Record.Kind;
            var gate = Gate(kind);
            await gate.WaitAsync(cancellationToken);
            try
            {
                var record = entry.Record;
                var spec = await ExistingSpecAsync(record, cancellationToken);
                var adopted = await runtime.AdoptAsync(spec, cancellationToken);
                var now = _time.GetUtcNow();
                if (adopted)
                {
                    _logger.ServiceAdopted(kind, record.Version);
                    var state = await runtime.InspectAsync(kind, cancellationToken);
                    SetState(entry, ServiceStates.Running, state.StartedAt ?? now, null);
                    entry.RunningSince = state.StartedAt ?? now;
                }
                else if (record.Desired == ServiceStates.Running)
                {
                    try
                    {
                        await StartCleanAsync(runtime, kind, cancellationToken);
                        _logger.ServiceStartedAtAgentStart(kind, record.Version);
                        SetState(entry, ServiceStates.Running, now, null);
                        entry.RunningSince = now;
                    }
                    catch (ServiceRuntimeException e)
                    {
                        Crashed(entry, e.Message, now);
                    }
                }
                else
                {
                    SetState(entry, ServiceStates.Stopped, now, null);
                }
            }
            catch (ServiceRuntimeException e)
            {
                _logger.ServiceReconcileFailed(kind, e.Message);
                Crashed(entry, e.Message, _time.GetUtcNow());
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>One supervision pass: records crashes and restarts what is due. Kinds busy with a command are skipped.</summary>
    public async Task SuperviseOnceAsync(CancellationToken cancellationToken)
    {
        var runtime = Runtime;
        if (runtime is null)
        {
            return;
        }

        List<Entry> entries;
        lock (_lock)
        {
            entries = [.. _entries.Values];
        }

        foreach (var entry in entries)
        {
            var kind = entry.Record.Kind;
            var gate = Gate(kind);
            if (!await gate.WaitAsync(0, cancellationToken))
            {
                continue;
            }

            try
            {
                if (!IsCurrent(entry))
                {
                    continue; // removed meanwhile
                }

                await SuperviseAsync(runtime, entry, cancellationToken);
            }
            catch (ServiceRuntimeException e)
            {
                _logger.SupervisionFailed(kind, e.Message);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary><c>service.install</c>: installs, or updates to another version (rolling back on failure), and starts it answering.</summary>
    public async Task<ServiceCommandOutput> InstallAsync(ServiceInstallArgs args, CancellationToken cancellationToken)
    {
        var steps = new StepLog();
        if (Engines.Find(args.Kind) is not { } engine)
        {
            throw new ServiceCommandException($"unknown service kind '{args.Kind}' (known: {string.Join(", ", Engines.Kinds)})", steps);
        }

        if (args.Runtime is not (RuntimeNames.Docker or RuntimeNames.Exec or RuntimeNames.Auto))
        {
            throw new ServiceCommandException($"unknown runtime '{args.Runtime}' (known: {RuntimeNames.Docker}, {RuntimeNames.Exec}, {RuntimeNames.Auto})", steps);
        }

        if (args.Port is < 1 or > 65535)
        {
            throw new ServiceCommandException($"port {args.Port} is not 1-65535", steps);
        }

        if (args.ListenAddress is not null && !System.Net.IPAddress.TryParse(args.ListenAddress, out _))
        {
            throw new ServiceCommandException($"listen address '{args.ListenAddress}' is not an IP address", steps);
        }

        if (args.Listen is { Count: > 0 } listenEntries)
        {
            try
            {
                args = args with { Listen = [.. engine.ValidateListen(listenEntries)] };
            }
            catch (ArgumentException e)
            {
                throw new ServiceCommandException(e.Message, steps, e);
            }
        }
        else
        {
            args = args with { Listen = null };
        }

        var kind = args.Kind;
        var gate = Gate(kind);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var runtime = await UseRuntimeAsync(args.Runtime, steps, cancellationToken);
            var version = await Step(steps, () => runtime.ResolveVersionAsync(kind, args.Version, cancellationToken));
            steps.Add(args.Version is null ? $"resolved version {version} (newest on this host)" : $"version {version} is on this host");
            var existing = TryEntry(kind);
            if (existing is null)
            {
                await FreshInstallAsync(runtime, args, version, steps, cancellationToken);
            }
            else if (existing.Record.Version == version && existing.Record.ListenAddress == args.ListenAddress && existing.Record.Port == args.Port
                && (existing.Record.Listen ?? []).SequenceEqual(args.Listen ?? [], StringComparer.Ordinal)
                && (existing.Record.Interfaces ?? []).SequenceEqual(args.Interfaces ?? [], StringComparer.Ordinal))
            {
                steps.Add($"{kind} {version} is already installed");
                await EnsureRunningAsync(runtime, existing, steps, cancellationToken);
            }
            else
            {
                await UpdateAsync(runtime, existing, args, version, steps, cancellationToken);
            }

            return new ServiceCommandOutput(Status(kind), steps);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary><c>service.start</c>: starts a stopped (or failed) service and waits until it answers.</summary>
    public Task<ServiceCommandOutput> StartAsync(string kind, CancellationToken cancellationToken) =>
        WithInstalledAsync(kind, async (runtime, entry, steps) => await EnsureRunningAsync(runtime, entry, steps, cancellationToken), cancellationToken);

    /// <summary><c>service.stop</c>: stops it and keeps it stopped until started.</summary>
    public Task<ServiceCommandOutput> StopAsync(string kind, CancellationToken cancellationToken) =>
        WithInstalledAsync(
            kind,
            async (runtime, entry, steps) =>
            {
                Update(entry, entry.Record with { Desired = ServiceStates.Stopped });
                steps.Add("marked stopped (the agent keeps it stopped)");
                await Step(steps, () => runtime.StopAsync(kind, _options.StopGrace, cancellationToken));
                steps.Add($"stopped {Describe(runtime, kind)}");
                SetState(entry, ServiceStates.Stopped, _time.GetUtcNow(), null);
                ResetBackoff(entry);
            },
            cancellationToken);

    /// <summary><c>service.restart</c>: stops and starts it (not counted as a crash restart) and waits until it answers.</summary>
    public Task<ServiceCommandOutput> RestartAsync(string kind, CancellationToken cancellationToken) =>
        WithInstalledAsync(
            kind,
            async (runtime, entry, steps) =>
            {
                Update(entry, entry.Record with { Desired = ServiceStates.Running });
                var state = await runtime.InspectAsync(kind, cancellationToken);
                if (!state.Exists)
                {
                    await CreateFromRecordAsync(runtime, entry.Record, steps, cancellationToken);
                }

                await Step(steps, () => runtime.StopAsync(kind, _options.StopGrace, cancellationToken));
                await Step(steps, () => StartCleanAsync(runtime, kind, cancellationToken));
                steps.Add($"restarted {Describe(runtime, kind)}");
                MarkStarted(entry);
                await WaitAnsweringOrFailAsync(runtime, entry.Record, steps, cancellationToken);
            },
            cancellationToken);

    /// <summary><c>service.remove</c>: stops and removes it; its directory (configuration, data) stays.</summary>
    public Task<ServiceCommandOutput> RemoveAsync(string kind, CancellationToken cancellationToken) =>
        WithInstalledAsync(
            kind,
            async (runtime, entry, steps) =>
            {
                await Step(steps, () => runtime.RemoveAsync(kind, cancellationToken));
                steps.Add($"stopped and removed {Describe(runtime, kind)}");
                lock (_lock)
                {
                    _entries.Remove(kind);
                    SaveLocked();
                }

                steps.Add($"kept the data directory {Layout(kind).Directory}");
                _logger.ServiceRemoved(kind);
            },
            cancellationToken,
            statusAfter: false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _runtime, null) is { } runtime)
        {
            await runtime.DisposeAsync();
        }
    }

    /// <summary>Crash-restart delay after <paramref name="failures"/> consecutive failures (1 → first delay).</summary>
    internal TimeSpan BackoffDelay(int failures)
    {
        var factor = Math.Pow(2, Math.Max(0, failures - 1));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.FirstRestartDelay.Ticks * factor, _options.MaxRestartDelay.Ticks));
        return delay;
    }

    private async Task SuperviseAsync(IServiceRuntime runtime, Entry entry, CancellationToken cancellationToken)
    {
        var kind = entry.Record.Kind;
        var state = await runtime.InspectAsync(kind, cancellationToken);
        var now = _time.GetUtcNow();
        if (entry.Record.Desired == ServiceStates.Stopped)
        {
            SetState(entry, state.Running ? ServiceStates.Running : ServiceStates.Stopped, now, null);
            return;
        }

        if (state.Running)
        {
            if (entry.State != ServiceStates.Running)
            {
                SetState(entry, ServiceStates.Running, now, null);
                entry.RunningSince ??= now;
            }

            if (entry.Failures > 0 && entry.RunningSince is { } since && now - since >= _options.StableAfter)
            {
                entry.Failures = 0;
            }

            return;
        }

        if (entry.State != ServiceStates.Failed)
        {
            Crashed(entry, state.Error ?? "not running", now);
        }

        if (entry.NextRestartAt is { } due && now < due)
        {
            return;
        }

        try
        {
            if (!state.Exists)
            {
                await CreateFromRecordAsync(runtime, entry.Record, null, cancellationToken);
            }

            await StartCleanAsync(runtime, kind, cancellationToken);
            var record = entry.Record with { RestartCount = entry.Record.RestartCount + 1 };
            Update(entry, record);
            _logger.ServiceRestarted(kind, record.RestartCount, entry.Failures);
            SetState(entry, ServiceStates.Running, now, null);
            entry.RunningSince = now;
            entry.NextRestartAt = null;
        }
        catch (ServiceRuntimeException e)
        {
            entry.Failures++;
            entry.Error = e.Message;
            entry.NextRestartAt = now + BackoffDelay(entry.Failures);
            _logger.ServiceRestartFailed(kind, e.Message, BackoffDelay(entry.Failures).TotalSeconds);
        }
    }

    private void Crashed(Entry entry, string reason, DateTimeOffset now)
    {
        entry.Failures++;
        SetState(entry, ServiceStates.Failed, now, reason);
        entry.RunningSince = null;
        var delay = BackoffDelay(entry.Failures);
        entry.NextRestartAt = now + delay;
        _logger.ServiceFailed(entry.Record.Kind, reason, delay.TotalSeconds);
    }

    private async Task FreshInstallAsync(IServiceRuntime runtime, ServiceInstallArgs args, string version, StepLog steps, CancellationToken cancellationToken)
    {
        var kind = args.Kind;
        var layout = Layout(kind);
        var freshDirectory = !Directory.Exists(layout.Directory);
        var record = new InstalledService(kind, runtime.Name, version, ImageOf(runtime, kind, version), args.ListenAddress, args.Port, ServiceStates.Running, 0, _time.GetUtcNow(), args.Listen, args.Interfaces);
        try
        {
            await DeployAsync(runtime, record, steps, cancellationToken);
        }
        catch (Exception e)
        {
            // Leave nothing half-installed: no container/process, and no directory if this install made it.
            await CleanUpAsync(runtime, kind, layout, freshDirectory, steps);
            if (e is ServiceCommandException or OperationCanceledException)
            {
                throw;
            }

            throw new ServiceCommandException(e.Message, steps, e);
        }

        var entry = new Entry(record, ServiceStates.Running, _time.GetUtcNow()) { RunningSince = _time.GetUtcNow() };
        lock (_lock)
        {
            _runtimeName ??= runtime.Name;
            _entries[kind] = entry;
            SaveLocked();
        }

        _logger.ServiceInstalled(kind, version, runtime.Name);
    }

    private async Task UpdateAsync(IServiceRuntime runtime, Entry entry, ServiceInstallArgs args, string version, StepLog steps, CancellationToken cancellationToken)
    {
        var kind = args.Kind;
        var previous = entry.Record;
        steps.Add(previous.Version == version ? $"changing the listen address of {kind} {version}" : $"updating {kind} from {previous.Version} to {version}");
        var next = previous with { Version = version, Image = ImageOf(runtime, kind, version), ListenAddress = args.ListenAddress, Port = args.Port, Listen = args.Listen, Interfaces = args.Interfaces, Desired = ServiceStates.Running };
        try
        {
            await DeployAsync(runtime, next, steps, cancellationToken);
        }
        catch (Exception e) when (e is ServiceCommandException or ServiceRuntimeException)
        {
            steps.Add($"update to {version} failed: {e.Message}");
            try
            {
                await DeployAsync(runtime, previous with { Desired = ServiceStates.Running }, steps, CancellationToken.None);
            }
            catch (Exception again) when (again is ServiceCommandException or ServiceRuntimeException)
            {
                Crashed(entry, $"rollback to {previous.Version} failed: {again.Message}", _time.GetUtcNow());
                throw new ServiceCommandException($"update to {version} failed ({e.Message}); rolling back to {previous.Version} failed too: {again.Message}", steps, e);
            }

            Update(entry, previous with { Desired = ServiceStates.Running });
            MarkStarted(entry);
            steps.Add($"rolled back to {previous.Version}");
            throw new ServiceCommandException($"update to {version} failed ({e.Message}); rolled back to {previous.Version}", steps, e);
        }

        Update(entry, next);
        MarkStarted(entry);
        _logger.ServiceUpdated(kind, previous.Version, version);
    }

    /// <summary>Writes the configuration, checks it, replaces what runs, starts it and waits until it answers.</summary>
    private async Task DeployAsync(IServiceRuntime runtime, InstalledService record, StepLog steps, CancellationToken cancellationToken)
    {
        var kind = record.Kind;
        var layout = Layout(kind);
        var (spec, description) = await Step(steps, () => WriteConfigAsync(layout, record, runtime, cancellationToken));
        steps.Add($"wrote configuration {layout.ConfigFile}{(description is null ? string.Empty : $" ({description})")}");
        await StepDelayAsync(cancellationToken);
        await Step(steps, () => runtime.ValidateAsync(spec, cancellationToken));
        steps.Add($"configuration check passed ({string.Join(' ', spec.CheckCommand.Take(1).Concat(spec.CheckCommand.Skip(spec.CheckCommand.Count - 1)))})");
        await StepDelayAsync(cancellationToken);
        await Step(steps, () => runtime.CreateAsync(spec, cancellationToken));
        steps.Add(runtime.Name == RuntimeNames.Docker ? $"created {Describe(runtime, kind)} from {record.Image}" : $"prepared {spec.Command[0]} {record.Version}");
        await StepDelayAsync(cancellationToken);
        await Step(steps, () => StartCleanAsync(runtime, kind, cancellationToken));
        steps.Add($"started {Describe(runtime, kind)}");
        await StepDelayAsync(cancellationToken);
        await WaitAnsweringOrFailAsync(runtime, record, steps, cancellationToken);
    }

    private async Task EnsureRunningAsync(IServiceRuntime runtime, Entry entry, StepLog steps, CancellationToken cancellationToken)
    {
        var kind = entry.Record.Kind;
        Update(entry, entry.Record with { Desired = ServiceStates.Running });
        var state = await runtime.InspectAsync(kind, cancellationToken);
        if (!state.Exists)
        {
            await CreateFromRecordAsync(runtime, entry.Record, steps, cancellationToken);
        }

        if (state.Running)
        {
            steps.Add($"{Describe(runtime, kind)} is already running");
        }
        else
        {
            await Step(steps, () => StartCleanAsync(runtime, kind, cancellationToken));
            steps.Add($"started {Describe(runtime, kind)}");
            MarkStarted(entry);
        }

        await WaitAnsweringOrFailAsync(runtime, entry.Record, steps, cancellationToken);
        if (entry.State != ServiceStates.Running)
        {
            MarkStarted(entry);
        }
    }

    private async Task CreateFromRecordAsync(IServiceRuntime runtime, InstalledService record, StepLog? steps, CancellationToken cancellationToken)
    {
        var spec = await ExistingSpecAsync(record, cancellationToken);
        await runtime.CreateAsync(spec, cancellationToken);
        steps?.Add($"re-created {Describe(runtime, record.Kind)} ({record.Version})");
    }

    private Task WaitAnsweringOrFailAsync(IServiceRuntime runtime, InstalledService record, StepLog steps, CancellationToken cancellationToken) =>
        WaitAnsweringHeldAsync(runtime, record.Kind, record.Version, token => Engines.Get(record.Kind).ProbeAsync(Layout(record.Kind), record, token), steps, cancellationToken);

    /// <summary>
    /// Waits (the kind's gate held) until <paramref name="probe"/> says the service answers, or throws
    /// <see cref="ServiceCommandException"/> saying why: it stopped (with its last output, e.g. a port in use), or it
    /// does not answer within <see cref="ServiceManagerOptions.AnswerTimeout"/>.
    /// </summary>
    internal async Task WaitAnsweringHeldAsync(IServiceRuntime runtime, string kind, string version, Func<CancellationToken, Task<ProbeResult>> probe, StepLog steps, CancellationToken cancellationToken)
    {
        // Real time, not _time: this waits for a real process to answer.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        ProbeResult? last = null;
        while (true)
        {
            last = await probe(cancellationToken);
            if (last.Ok)
            {
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"answering after {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s ({ServiceProbes.Describe(last)})"));
                return;
            }

            var state = await runtime.InspectAsync(kind, cancellationToken);
            if (!state.Running)
            {
                var tail = await runtime.ReadLogTailAsync(kind, 600, cancellationToken);
                throw new ServiceCommandException($"{kind} {version} stopped right after starting ({state.Error ?? "not running"}){(tail.Length > 0 ? "; last output: " + tail.Trim() : string.Empty)}", steps);
            }

            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) >= _options.AnswerTimeout)
            {
                throw new ServiceCommandException($"{kind} {version} runs but does not answer after {_options.AnswerTimeout.TotalSeconds:0} s: {last.Message}", steps);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>
    /// Starts a service that is not running after removing the pid files its daemon left (knotd and Kea refuse to
    /// start while their pid file names a live process, and in a container that pid, 1, is always alive).
    /// An older agent's <c>agent.pid</c> stays for the exec runtime to check.
    /// </summary>
    private async Task StartCleanAsync(IServiceRuntime runtime, string kind, CancellationToken cancellationToken)
    {
        var state = await runtime.InspectAsync(kind, cancellationToken);
        var run = Layout(kind).RunDirectory;
        if (!state.Running && Directory.Exists(run))
        {
            foreach (var file in Directory.EnumerateFiles(run, "*.pid"))
            {
                if (Path.GetFileName(file) != ExecRuntime.LegacyPidFileName)
                {
                    File.Delete(file);
                }
            }
        }

        await runtime.StartAsync(kind, cancellationToken);
    }

    private async Task CleanUpAsync(IServiceRuntime runtime, string kind, ServiceLayout layout, bool removeDirectory, StepLog steps)
    {
        try
        {
            await runtime.RemoveAsync(kind, CancellationToken.None);
            steps.Add($"removed {Describe(runtime, kind)} again");
        }
        catch (ServiceRuntimeException e)
        {
            steps.Add($"could not remove {Describe(runtime, kind)}: {e.Message}");
        }

        if (removeDirectory)
        {
            try
            {
                Directory.Delete(layout.Directory, recursive: true);
                steps.Add($"removed {layout.Directory}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                steps.Add($"could not remove {layout.Directory}: {e.Message}");
            }
        }

        lock (_lock)
        {
            if (_entries.Count == 0)
            {
                _runtimeName = null; // nothing installed: the next install may choose again
            }
        }
    }

    private async Task<ServiceCommandOutput> WithInstalledAsync(string kind, Func<IServiceRuntime, Entry, StepLog, Task> action, CancellationToken cancellationToken, bool statusAfter = true)
    {
        var steps = new StepLog();
        if (!Engines.IsKnown(kind))
        {
            throw new ServiceCommandException($"unknown service kind '{kind}' (known: {string.Join(", ", Engines.Kinds)})", steps);
        }

        var gate = Gate(kind);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var entry = TryEntry(kind) ?? throw new ServiceCommandException($"{kind} is not installed on this server (install it with service.install first)", steps);
            var runtime = await EnsureRuntimeAsync(entry.Record.Runtime);
            try
            {
                await action(runtime, entry, steps);
            }
            catch (ServiceRuntimeException e)
            {
                throw new ServiceCommandException(e.Message, steps, e);
            }

            return new ServiceCommandOutput(statusAfter ? Status(kind) : null, steps);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The runtime for an install: the agent's one runtime; a different one is refused; "auto" chooses.</summary>
    private async Task<IServiceRuntime> UseRuntimeAsync(string requested, StepLog steps, CancellationToken cancellationToken)
    {
        var current = RuntimeName;
        if (requested == RuntimeNames.Auto)
        {
            if (current is not null)
            {
                steps.Add($"runtime: {current} (the one this agent's services use)");
                return await EnsureRuntimeAsync(current);
            }

            return await ChooseRuntimeAsync(steps, cancellationToken);
        }

        if (current is not null && current != requested)
        {
            throw new ServiceCommandException($"this agent runs its services with the {current} runtime; cannot install with {requested} (one runtime per agent: remove every service first to switch)", steps);
        }

        return await EnsureRuntimeAsync(requested);
    }

    /// <summary>"auto" on an agent with no service yet: docker where its Docker engine answers (within 5 s), else exec.</summary>
    private async Task<IServiceRuntime> ChooseRuntimeAsync(StepLog steps, CancellationToken cancellationToken)
    {
        var docker = await EnsureRuntimeAsync(RuntimeNames.Docker);
        RuntimeHealth health;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                health = await docker.CheckAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                health = new RuntimeHealth(false, "the Docker engine did not answer within 5 s");
            }
        }

        if (health.Healthy)
        {
            steps.Add($"runtime: docker ({health.Description})");
            return docker;
        }

        steps.Add($"runtime: exec (docker is not available on this server: {health.Description})");
        return await EnsureRuntimeAsync(RuntimeNames.Exec);
    }

    private async Task<IServiceRuntime> EnsureRuntimeAsync(string name)
    {
        await _runtimeGate.WaitAsync();
        try
        {
            var runtime = Runtime;
            if (runtime is not null && runtime.Name == name)
            {
                return runtime;
            }

            if (runtime is not null)
            {
                await runtime.DisposeAsync();
            }

            runtime = _runtimeFactory(name);
            Volatile.Write(ref _runtime, runtime);
            return runtime;
        }
        finally
        {
            _runtimeGate.Release();
        }
    }

    private static async Task<T> Step<T>(StepLog steps, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (ServiceRuntimeException e)
        {
            throw new ServiceCommandException(e.Message, steps, e);
        }
    }

    private static async Task Step(StepLog steps, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (ServiceRuntimeException e)
        {
            throw new ServiceCommandException(e.Message, steps, e);
        }
    }

    private Task StepDelayAsync(CancellationToken cancellationToken) =>
        _options.StepDelay > TimeSpan.Zero ? Task.Delay(_options.StepDelay, cancellationToken) : Task.CompletedTask;

    private string? ImageOf(IServiceRuntime runtime, string kind, string version) =>
        runtime.Name == RuntimeNames.Docker ? $"{Engines.Get(kind).Image}:{version}" : null;

    private string Describe(IServiceRuntime runtime, string kind) =>
        runtime is DockerRuntime docker ? $"container {docker.ContainerName(kind)}" : $"{Engines.Get(kind).Daemon} process";

    private ServiceLayout Layout(string kind) => Engines.Layout(_options.ServicesRoot, kind);

    /// <summary>
    /// How to run an installed service whose configuration was written by its install (or a later applied change):
    /// an engine whose configuration on disk is what was validated and applied keeps it as it is; others are written again.
    /// </summary>
    private async Task<ServiceSpec> ExistingSpecAsync(InstalledService record, CancellationToken cancellationToken)
    {
        var layout = Layout(record.Kind);
        var engine = Engines.Get(record.Kind);
        return engine.KeepsAppliedConfig && File.Exists(layout.ConfigFile)
            ? engine.SpecOf(layout, record)
            : (await WriteConfigAsync(layout, record, null, cancellationToken)).Spec;
    }

    /// <summary>Writes the configuration the engine renders for <paramref name="record"/> and returns how to run it (and what the configuration holds).</summary>
    private async Task<(ServiceSpec Spec, string? Description)> WriteConfigAsync(ServiceLayout layout, InstalledService record, IServiceRuntime? runtime, CancellationToken cancellationToken)
    {
        var engine = Engines.Get(record.Kind);
        layout.CreateDirectories();
        var rendered = await engine.RenderAsync(layout, record, runtime, cancellationToken);
        AtomicFile.WriteAllText(layout.ConfigFile, rendered.Text, AtomicFile.OwnerOnly);
        return (engine.SpecOf(layout, record), rendered.Description);
    }

    /// <summary>
    /// Restarts a service from inside <see cref="WithServiceAsync"/> (its gate held): stop, clear stale pid files,
    /// start. Not counted as a crash restart. (knotd binds its listen sockets at start only.)
    /// </summary>
    internal async Task RestartHeldAsync(IServiceRuntime runtime, string kind, CancellationToken cancellationToken)
    {
        await runtime.StopAsync(kind, _options.StopGrace, cancellationToken);
        await StartCleanAsync(runtime, kind, cancellationToken);
        if (TryEntry(kind) is { } entry)
        {
            MarkStarted(entry);
        }
    }

    /// <summary>
    /// Records the listen entries an applied change (<c>dns.apply</c>) made live as the service's own (from inside
    /// <see cref="WithServiceAsync"/>), so a later install or restart keeps them.
    /// </summary>
    internal void SetListenHeld(string kind, IReadOnlyList<string> listen)
    {
        if (TryEntry(kind) is { } entry && !(entry.Record.Listen ?? []).SequenceEqual(listen, StringComparer.Ordinal))
        {
            Update(entry, entry.Record with { Listen = [.. listen] });
        }
    }

    /// <summary>Where services live (<c>STATE_DIR/services</c>).</summary>
    public string ServicesRoot => _options.ServicesRoot;

    /// <summary>
    /// Runs <paramref name="action"/> on an installed service while holding its gate (no install, service command or
    /// supervision pass of that kind runs meanwhile). Throws <see cref="ServiceCommandException"/> when it is not installed.
    /// </summary>
    internal async Task<T> WithServiceAsync<T>(string kind, Func<IServiceRuntime, InstalledService, ServiceLayout, Task<T>> action, CancellationToken cancellationToken)
    {
        var gate = Gate(kind);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var entry = TryEntry(kind) ?? throw new ServiceCommandException($"no {kind} service is installed on this server (install it with service.install first)", []);
            var runtime = await EnsureRuntimeAsync(entry.Record.Runtime);
            return await action(runtime, entry.Record, Layout(kind));
        }
        finally
        {
            gate.Release();
        }
    }

    private SemaphoreSlim Gate(string kind)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(kind, out var gate))
            {
                _gates[kind] = gate = new SemaphoreSlim(1, 1);
            }

            return gate;
        }
    }

    private Entry? TryEntry(string kind)
    {
        lock (_lock)
        {
            return _entries.GetValueOrDefault(kind);
        }
    }

    private InstalledService? TryRecord(string kind) => TryEntry(kind)?.Record;

    private bool IsCurrent(Entry entry)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(entry.Record.Kind, out var current) && ReferenceEquals(current, entry);
        }
    }

    private void Update(Entry entry, InstalledService record)
    {
        lock (_lock)
        {
            entry.Record = record;
            SaveLocked();
        }
    }

    private void MarkStarted(Entry entry)
    {
        var now = _time.GetUtcNow();
        SetState(entry, ServiceStates.Running, now, null);
        entry.RunningSince = now;
        ResetBackoff(entry);
    }

    private static void ResetBackoff(Entry entry)
    {
        entry.Failures = 0;
        entry.NextRestartAt = null;
    }

    private void SetState(Entry entry, string state, DateTimeOffset since, string? error)
    {
        bool changed;
        lock (_lock)
        {
            changed = entry.State != state;
            if (changed)
            {
                entry.State = state;
                entry.Since = since;
            }

            entry.Error = error;
        }

        if (changed)
        {
            StateChanged?.Invoke();
        }
    }

    /// <summary>Called (outside the lock) when a service changes state: the agent sends a heartbeat at once.</summary>
    public Action? StateChanged { get; set; }

    private void SaveLocked() =>
        _file.Write(new ServicesFileContent(ServicesFile.FormatVersion, _runtimeName, [.. _entries.Values.Select(e => e.Record).OrderBy(r => r.Kind, StringComparer.Ordinal)]));

    private ServiceStatus StatusOf(Entry entry)
    {
        var r = entry.Record;
        var layout = Layout(r.Kind);
        var listen = Engines.Get(r.Kind).ListenDisplay(layout, r);
        return new ServiceStatus(r.Kind, entry.State, entry.Since, r.RestartCount, r.Version, r.Runtime, entry.Error, listen);
    }

    /// <summary>One installed service: its record and what the agent sees now (guarded by the kind's gate, read under the lock).</summary>
    private sealed class Entry(InstalledService record, string state, DateTimeOffset since)
    {
        public InstalledService Record { get; set; } = record;

        public string State { get; set; } = state;

        public DateTimeOffset Since { get; set; } = since;

        public string? Error { get; set; }

        /// <summary>Consecutive crashes (backoff exponent); reset after running <see cref="ServiceManagerOptions.StableAfter"/>.</summary>
        public int Failures { get; set; }

        public DateTimeOffset? NextRestartAt { get; set; }

        public DateTimeOffset? RunningSince { get; set; }
    }
}

/// <summary>A service command that failed: the message for the operator and the steps taken up to the failure.</summary>
internal sealed class ServiceCommandException : Exception
{
    public ServiceCommandException()
    {
        Steps = [];
    }

    public ServiceCommandException(string message)
        : base(message)
    {
        Steps = [];
    }

    public ServiceCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
        Steps = [];
    }

    public ServiceCommandException(string message, IReadOnlyList<string> steps, Exception? innerException = null)
        : base(message, innerException)
    {
        Steps = steps;
    }

    public IReadOnlyList<string> Steps { get; }
}
