using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// <c>dns.apply</c> (<see cref="DnsApplyArgs"/>) on the generic <see cref="ConfigApplier"/>: the Knot change
/// (<see cref="KnotChange"/>) stages the zone files (inline or streamed from the control plane) and the candidate
/// knot.conf, validates them (<c>kzonecheck</c>, <c>knotc conf-check</c>) with nothing live changed, reloads
/// (<c>knotc reload</c>, <c>knotc -b zone-reload</c>; a restart for new listen entries), health-checks every zone's
/// SOA serial and, after a rollback, reloads and checks the previous files. Holds the DNS service's gate throughout.
/// </summary>
internal sealed partial class DnsApplier(ServiceManager manager, KnotControl knotc, AgentConnection? connection, ILogger<DnsApplier> logger)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long every zone has to answer with its serial after a reload (and the old ones after a rollback).</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(10);

    private ServiceManager Manager => manager;

    private KnotControl Knotc => knotc;

    public async Task<DnsApplyOutput> ApplyAsync(DnsApplyArgs args, CancellationToken cancellationToken)
    {
        var steps = new StepLog();
        CheckArgs(args, steps);
        try
        {
            return await manager.WithServiceAsync(ServiceKinds.Dns, (runtime, record, layout) => ApplyAsync(args, runtime, record, layout, steps, cancellationToken), cancellationToken);
        }
        catch (ServiceCommandException e)
        {
            throw Refused(e.Message, steps, KnotEngine.LayoutIn(manager.ServicesRoot));
        }
    }

    private async Task<DnsApplyOutput> ApplyAsync(DnsApplyArgs args, IServiceRuntime runtime, InstalledService record, ServiceLayout layout, StepLog steps, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var change = await KnotChange.PrepareAsync(this, args, runtime, record, layout, steps, cancellationToken);
        var result = await ConfigApplier.ApplyAsync(runtime, layout, change, steps, cancellationToken);
        var applied = change.Args.Config.Zones;
        switch (result.Outcome)
        {
            case ApplyOutcome.AlreadyLive:
                return Output(change.Version, false, change.LiveConf, [.. applied.Select(z => new DnsZoneState(z.Name, z.Serial))], steps);
            case ApplyOutcome.NotRunning:
                steps.Add("dns is not running: not reloaded, no health check; the change takes effect when it starts"
                    + (change.ListenChanged ? $" (then it listens on {DnsListen.Display(change.NewListen)})" : string.Empty));
                logger.DnsApplied(change.Version, applied.Count, change.StagedZones, total.ElapsedMilliseconds);
                return Output(change.Version, false, change.CandidateConf, [.. applied.Select(z => new DnsZoneState(z.Name, null, "not running"))], steps, change.Refusals, change.Warnings);
            case ApplyOutcome.Live:
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"version {change.Version} is live ({total.ElapsedMilliseconds} ms)"));
                logger.DnsApplied(change.Version, applied.Count, change.StagedZones, total.ElapsedMilliseconds);
                return Output(change.Version, false, change.CandidateConf, change.Zones, steps, change.Refusals, change.Warnings) with { Listen = change.NewListen, Service = manager.Status(ServiceKinds.Dns) };
            default:
                logger.DnsApplyRolledBack(change.Version, result.Message);
                throw new DnsApplyException(result.Message, Output(change.Previous?.Version ?? 0, true, await ReadOrEmptyAsync(layout.ConfigFile), change.Zones, steps, change.Refusals, change.Warnings) with { Service = manager.Status(ServiceKinds.Dns) });
        }
    }

    /// <summary>How a staged zone file checked: refused (knotd would not load it, with its reason) or loaded, with what Knot's optional checks report.</summary>
    private sealed record ZoneCheck(string Checker, string? Refusal, IReadOnlyList<string> Warnings);

    /// <summary>
    /// Checks one staged zone file with <c>kzonecheck</c> (all of Knot's checks). When it reports anything, knotd's own
    /// load check decides: <c>knotc zone-check</c> against a configuration with this zone, its semantic checks as in the
    /// live knot.conf (off: only the checks knotd applies on every load). A zone it loads is valid and kzonecheck's
    /// findings are warnings; one it refuses is refused, with knotd's reason. Without kzonecheck (an image without
    /// knot-dnssecutils) the load check alone decides.
    /// </summary>
    private async Task<ZoneCheck> CheckZoneAsync(IServiceRuntime runtime, ServiceLayout layout, DnsConfigSpec spec, string zone, string path, bool dnstap, CancellationToken cancellationToken)
    {
        var all = await Tool(null, layout, () => runtime.RunToolAsync(ServiceKinds.Dns, ["kzonecheck", "-v", "-o", zone, path], ToolTimeout, cancellationToken));
        if (all.Ok)
        {
            return new ZoneCheck("kzonecheck", null, []);
        }

        var checkConf = Path.Combine(layout.ConfDirectory, "zone-check.conf");
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { [zone] = path };
        AtomicFile.WriteAllText(checkConf, KnotConf.Render(spec with { Zones = [.. spec.Zones.Where(z => z.Name == zone)] }, layout, ["127.0.0.1@53"], dnstap, files), AtomicFile.OwnerOnly);
        KnotcResult load;
        try
        {
            load = await Tool(null, layout, () => knotc.RunWithConfAsync(checkConf, ["zone-check", zone], ToolTimeout, cancellationToken));
        }
        finally
        {
            File.Delete(checkConf);
        }

        var checker = all.ExitCode == ToolResult.NotFound ? "knotc zone-check (no kzonecheck here)" : "kzonecheck";
        if (!load.Ok)
        {
            return new ZoneCheck(checker, Reason(load.Output, path), []);
        }

        if (all.ExitCode == ToolResult.NotFound)
        {
            return new ZoneCheck(checker, null, []);
        }

        // kzonecheck writes each finding as "[owner] problem".
        var findings = all.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('[')).Distinct(StringComparer.Ordinal).Take(20).ToList();
        return new ZoneCheck(checker, null, findings.Count > 0 ? findings : [Trim(all.Output)]);
    }

    /// <summary>knotd's reason, without the staging path and the log prefixes: "line 7 (invalid IPv4 address); …".</summary>
    private static string Reason(string output, string path)
    {
        var lines = output.Split('\n')
            .Select(l => l.Trim().Replace($"file '{path}', ", string.Empty, StringComparison.Ordinal).Replace($", file '{path}'", string.Empty, StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"^(error|warning|notice|info): \[[^\]]*\] ", string.Empty))
            .Where(l => l.Length > 0 && !l.StartsWith("failed to check zone file", StringComparison.Ordinal))
            .ToList();
        return Trim(lines.Count > 0 ? string.Join("; ", lines) : output);
    }

    /// <summary>The change without the refused zones: each keeps its live file and serial, or stays out of knot.conf when it is new.</summary>
    private static DnsApplyArgs WithoutRefused(DnsApplyArgs args, List<DnsZoneRefusal> refused, Dictionary<string, DnsAppliedFile> liveFiles, ServiceLayout layout)
    {
        var names = refused.Select(r => r.Zone).ToHashSet(StringComparer.Ordinal);
        var zones = args.Config.Zones
            .Where(z => !names.Contains(z.Name) || (liveFiles.ContainsKey(z.Name) && File.Exists(KnotConf.ZoneFilePath(layout, z.Name))))
            .Select(z => names.Contains(z.Name) ? z with { Serial = liveFiles[z.Name].Serial } : z)
            .ToList();
        return args with { Config = args.Config with { Zones = zones }, Files = [.. args.Files.Where(f => !names.Contains(f.Zone))] };
    }

    /// <summary>The listen entries changed: knotd binds its sockets at start only (a reload keeps the old ones), so restart it.</summary>
    private async Task<string?> RestartAsync(IServiceRuntime runtime, StepLog steps, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await manager.RestartHeldAsync(runtime, ServiceKinds.Dns, cancellationToken);
        }
        catch (ServiceRuntimeException e)
        {
            return $"restarting knotd for the new listen entries failed: {e.Message}";
        }

        steps.Add(string.Create(CultureInfo.InvariantCulture, $"listen entries changed: restarted knotd (a reload does not rebind) ({watch.ElapsedMilliseconds} ms)"));
        return null;
    }

    private async Task<string?> ReloadAsync(bool confChanged, IReadOnlyList<string> zones, StepLog steps, CancellationToken cancellationToken)
    {
        if (confChanged)
        {
            var watch = Stopwatch.StartNew();
            var reload = await knotc.RunAsync(["reload"], ReloadTimeout, cancellationToken);
            if (!reload.Ok)
            {
                return $"knotc reload failed: {Trim(reload.Output)}";
            }

            steps.Add(string.Create(CultureInfo.InvariantCulture, $"knotc reload: configuration reloaded ({watch.ElapsedMilliseconds} ms)"));
        }

        if (zones.Count > 0)
        {
            var watch = Stopwatch.StartNew();
            var reload = await knotc.RunAsync(["-b", "zone-reload", .. zones], ReloadTimeout, cancellationToken);
            if (!reload.Ok)
            {
                return $"knotc -b zone-reload failed: {Trim(reload.Output)}";
            }

            steps.Add(string.Create(CultureInfo.InvariantCulture, $"knotc -b zone-reload {string.Join(' ', zones)}: loaded ({watch.ElapsedMilliseconds} ms)"));
        }

        return null;
    }

    /// <summary>Every zone answers SOA with its serial, retried until <see cref="HealthTimeout"/> (+ <paramref name="extra"/>); the failure text is empty when all do.</summary>
    private async Task<(IReadOnlyList<DnsZoneState> Zones, string Failure)> HealthCheckAsync(IPEndPoint endpoint, IReadOnlyList<DnsZoneSpec> zones, CancellationToken cancellationToken, TimeSpan extra = default)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var states = new List<DnsZoneState>();
            foreach (var zone in zones)
            {
                states.Add(await QuerySerialAsync(endpoint, zone.Name, cancellationToken));
            }

            var wrong = zones.Zip(states).Where(p => p.Second.Serial != p.First.Serial).ToList();
            if (wrong.Count == 0)
            {
                return (states, string.Empty);
            }

            if (deadline.Elapsed >= HealthTimeout + extra)
            {
                var text = string.Join("; ", wrong.Select(p => p.Second.Serial is { } serial
                    ? string.Create(CultureInfo.InvariantCulture, $"{p.First.Name} answered serial {serial}, expected {p.First.Serial}")
                    : string.Create(CultureInfo.InvariantCulture, $"{p.First.Name} did not answer SOA ({p.Second.Error}), expected serial {p.First.Serial}")));
                return (states, text);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>The zone's SOA serial, asked from the agent's probe socket (so DNS monitoring does not count it as a hit).</summary>
    private static async Task<DnsZoneState> QuerySerialAsync(IPEndPoint endpoint, string zone, CancellationToken cancellationToken)
    {
        var answer = await AgentDnsProbe.Shared.QuerySoaAsync(endpoint, zone, TimeSpan.FromSeconds(1), cancellationToken);
        return answer.Serial is { } serial ? new DnsZoneState(zone, serial)
            : answer.Answered ? new DnsZoneState(zone, null, answer.RcodeText)
            : new DnsZoneState(zone, null, answer.Error);
    }

    /// <summary>
    /// After a restart for new listen entries: every entry answers (any DNS answer), or the reason it does not (knotd
    /// exited: its last output, e.g. a port in use; or no answer in time). Null when all answer.
    /// </summary>
    private async Task<string?> ListenAnswersAsync(IServiceRuntime runtime, string version, IReadOnlyList<string> listen, string what, StepLog steps, CancellationToken cancellationToken)
    {
        try
        {
            await manager.WaitAnsweringHeldAsync(runtime, ServiceKinds.Dns, version, token => KnotEngine.ProbeListenAsync(listen, token), steps, cancellationToken);
            steps.Add($"listening on {DnsListen.Display(listen)}: every entry answers");
            return null;
        }
        catch (ServiceCommandException e)
        {
            return $"{what} ({DnsListen.Display(listen)}) do not answer: {e.Message}";
        }
    }

    private static void CheckArgs(DnsApplyArgs args, StepLog steps)
    {
        var problems = new List<string>();
        foreach (var zone in args.Config.Zones)
        {
            if (!KnotConf.IsValidZoneName(zone.Name))
            {
                problems.Add($"zone name '{zone.Name}' is not a lower-case domain name without a trailing dot");
            }

            if (zone.Serial is < 0 or > uint.MaxValue)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"zone {zone.Name}: serial {zone.Serial} is not 0-{uint.MaxValue}"));
            }
        }

        problems.AddRange(args.Config.Zones.GroupBy(z => z.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"zone {g.Key} is listed twice"));
        problems.AddRange(args.Files.GroupBy(f => f.Zone, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"two files for zone {g.Key}"));
        problems.AddRange(args.Files.Where(f => !args.Config.Zones.Any(z => z.Name == f.Zone)).Select(f => $"file for zone {f.Zone}, which the configuration does not serve"));
        problems.AddRange(args.Files.Where(f => f.Size < 0 || f.Sha256.Length != 64).Select(f => $"zone {f.Zone}: size or sha256 is not valid"));
        try
        {
            KnotConf.ValidateListen(args.Config.Listen ?? []);
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message);
        }

        if (problems.Count > 0)
        {
            throw new DnsApplyException($"configuration refused: {string.Join("; ", problems)}", Output(0, false, string.Empty, [], steps));
        }
    }

    private static bool SameSpec(DnsConfigSpec a, DnsConfigSpec b) =>
        JsonSerializer.Serialize(a, ContractsJson.Default.DnsConfigSpec) == JsonSerializer.Serialize(b, ContractsJson.Default.DnsConfigSpec);

    private static DnsApplyException Refused(string message, StepLog steps, ServiceLayout layout, IReadOnlyList<DnsZoneRefusal>? refused = null)
    {
        steps.Add($"refused: {message} (nothing live changed)");
        var live = DnsAppliedStore.Read(layout);
        var conf = File.Exists(layout.ConfigFile) ? File.ReadAllText(layout.ConfigFile) : string.Empty;
        return new DnsApplyException(message, Output(live?.Version ?? 0, false, conf, [], steps, refused));
    }

    private static async Task<T> Tool<T>(StepLog? steps, ServiceLayout layout, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (ServiceRuntimeException e)
        {
            throw Refused(e.Message, steps ?? new StepLog(), layout);
        }
    }

    private static DnsApplyOutput Output(int version, bool rolledBack, string conf, IReadOnlyList<DnsZoneState> zones, StepLog steps, IReadOnlyList<DnsZoneRefusal>? refused = null, IReadOnlyList<string>? warnings = null) =>
        new(version, rolledBack, conf, zones, [.. steps], Refused: refused is { Count: > 0 } ? [.. refused] : null, Warnings: warnings is { Count: > 0 } ? [.. warnings] : null);

    private static async Task<string> ReadOrEmptyAsync(string path) => File.Exists(path) ? await File.ReadAllTextAsync(path) : string.Empty;

    private static string Trim(string output)
    {
        var text = output.Trim();
        return text.Length > 2000 ? text[..2000] + "…" : text;
    }
}

/// <summary>A <c>dns.apply</c> that failed: the message, and the output to report (steps, live version, rolled back or not).</summary>
internal sealed class DnsApplyException : Exception
{
    public DnsApplyException()
    {
        Output = new DnsApplyOutput(0, false, string.Empty, [], []);
    }

    public DnsApplyException(string message)
        : this(message, new DnsApplyOutput(0, false, string.Empty, [], []))
    {
    }

    public DnsApplyException(string message, Exception innerException)
        : base(message, innerException)
    {
        Output = new DnsApplyOutput(0, false, string.Empty, [], []);
    }

    public DnsApplyException(string message, DnsApplyOutput output)
        : base(message)
    {
        Output = output;
    }

    public DnsApplyOutput Output { get; }
}

/// <summary>A zone file that cannot be used (fetch, size, hash, gzip, checker): refuses the change.</summary>
internal sealed class ZoneFileException : Exception
{
    public ZoneFileException()
    {
    }

    public ZoneFileException(string message)
        : base(message)
    {
    }

    public ZoneFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
