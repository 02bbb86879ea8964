using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// <c>dns.apply</c> (<see cref="DnsApplyArgs"/>): stage the zone files (inline or streamed from the control plane),
/// validate them (<c>kzonecheck</c>) and the candidate knot.conf (<c>knotc conf-check</c>) with nothing live changed,
/// switch by renames (keeping <c>.prev</c>), reload (<c>knotc reload</c>, <c>knotc -b zone-reload</c>), health-check
/// every zone's SOA serial, and on a failure after the switch put the previous files back and reload them.
/// Holds the DNS service's gate throughout (no install or supervision restart in between).
/// </summary>
internal sealed class DnsApplier(ServiceManager manager, KnotControl knotc, AgentConnection? connection, ILogger<DnsApplier> logger)
{
    public const string StagingDirectory = ".staging";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long every zone has to answer with its serial after a reload (and the old ones after a rollback).</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(10);

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
            throw Refused(e.Message, steps, ServiceLayout.For(manager.ServicesRoot, ServiceKinds.Dns));
        }
    }

    private async Task<DnsApplyOutput> ApplyAsync(DnsApplyArgs args, IServiceRuntime runtime, InstalledService record, ServiceLayout layout, StepLog steps, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var previous = DnsAppliedStore.Read(layout);
        var liveConf = File.Exists(layout.ConfigFile) ? await File.ReadAllTextAsync(layout.ConfigFile, cancellationToken) : string.Empty;
        var dnstap = await Tool(steps, layout, () => DnsModules.HasDnstapAsync(runtime, layout, record.Version, cancellationToken));
        // Listen entries: the spec's when it names some (a listen change), else those live now.
        var liveListen = ServiceConfigs.DnsEffectiveListen(layout, record);
        var newListen = KnotConf.EffectiveListen(args.Config, liveListen);
        var listenChanged = !newListen.SequenceEqual(liveListen, StringComparer.Ordinal);
        var candidateConf = KnotConf.Render(args.Config, layout, liveListen, dnstap);
        var liveFiles = (previous?.Files ?? []).ToDictionary(f => f.Zone, StringComparer.Ordinal);
        var changed = args.Files
            .Where(f => !(liveFiles.TryGetValue(f.Zone, out var live) && live.Sha256 == f.Sha256 && live.Size == f.Size && new FileInfo(KnotConf.ZoneFilePath(layout, f.Zone)) is { Exists: true } info && info.Length == f.Size))
            .ToList();
        var confChanged = !string.Equals(candidateConf, liveConf, StringComparison.Ordinal);
        var missing = args.Config.Zones.Where(z => !args.Files.Any(f => f.Zone == z.Name) && !File.Exists(KnotConf.ZoneFilePath(layout, z.Name))).Select(z => z.Name).ToList();
        if (missing.Count > 0)
        {
            throw Refused($"no zone file for {string.Join(", ", missing)} (none sent and none on this server)", steps, layout);
        }

        // A version is a knot.conf: a change of zone content alone keeps the live version's number (as the control plane does).
        var version = confChanged || previous is null ? args.Version : previous.Version;
        if (previous is not null && !confChanged && changed.Count == 0 && SameSpec(previous.Spec, args.Config))
        {
            steps.Add($"version {version} is already live (same configuration, same zone files): nothing to do");
            return Output(version, false, liveConf, [.. args.Config.Zones.Select(z => new DnsZoneState(z.Name, z.Serial))], steps);
        }

        steps.Add(previous is null ? $"applying version {version} (none applied before)"
            : confChanged ? $"applying version {version} over version {previous.Version}"
            : $"applying zone changes to version {version} (knot.conf unchanged)");
        if (args.Config.Dnstap && !dnstap)
        {
            steps.Add($"dnstap: this knotd ({record.Version}) has no mod-dnstap (package knot-module-dnstap): rendered without it");
        }

        // 1. Stage and validate; nothing live changes.
        var staging = Path.Combine(KnotConf.ZonesPath(layout), StagingDirectory);
        ResetDirectory(staging);
        var staged = new Dictionary<string, string>(StringComparer.Ordinal);
        var refused = new List<DnsZoneRefusal>();
        var warnings = new List<string>();
        var validated = false;
        try
        {
            foreach (var file in changed)
            {
                var path = Path.Combine(staging, KnotConf.ZoneFileName(file.Zone));
                var watch = Stopwatch.StartNew();
                await FetchAsync(file, path, cancellationToken);
                staged[file.Zone] = path;
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"fetched {file.Zone} serial {file.Serial} ({file.Size} bytes, {(file.GzipBase64 is not null ? "inline" : "from the control plane")}) in {watch.ElapsedMilliseconds} ms; size and sha256 match"));
            }

            foreach (var (zone, path) in staged)
            {
                var watch = Stopwatch.StartNew();
                var zoneCheck = await CheckZoneAsync(runtime, layout, args.Config, zone, path, dnstap, cancellationToken);
                if (zoneCheck.Refusal is { } reason)
                {
                    refused.Add(new DnsZoneRefusal(zone, reason));
                    steps.Add($"{zoneCheck.Checker} {zone}: refused, knotd would not load it: {reason}");
                    continue;
                }

                warnings.AddRange(zoneCheck.Warnings.Select(w => $"{zone}: {w}"));
                var verdict = zoneCheck.Warnings.Count == 0 ? "valid" : $"knotd loads it; Knot's optional checks report: {string.Join("; ", zoneCheck.Warnings)}";
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{zoneCheck.Checker} {zone}: {verdict} ({watch.ElapsedMilliseconds} ms)"));
            }

            if (refused.Count > 0)
            {
                // Refused zones stay as they are live (or out of knot.conf when new); the others apply, unless all or nothing.
                var reasons = string.Join("; ", refused.Select(r => $"zone {r.Zone} refused by knotd's load check: {r.Reason}"));
                if (args.Atomic)
                {
                    throw Refused($"{reasons} (all or nothing: no zone applied)", steps, layout, refused);
                }

                foreach (var r in refused)
                {
                    File.Delete(staged[r.Zone]);
                    staged.Remove(r.Zone);
                }

                args = WithoutRefused(args, refused, liveFiles, layout);
                candidateConf = KnotConf.Render(args.Config, layout, liveListen, dnstap);
                confChanged = !string.Equals(candidateConf, liveConf, StringComparison.Ordinal);
                version = confChanged || previous is null ? args.Version : previous.Version;
                if (staged.Count == 0 && !confChanged && previous is not null && SameSpec(previous.Spec, args.Config))
                {
                    throw Refused(reasons, steps, layout, refused);
                }

                steps.Add($"{reasons}; applying the rest");
            }

            var candidatePath = layout.ConfigFile + ".new";
            AtomicFile.WriteAllText(candidatePath, candidateConf, AtomicFile.OwnerOnly);
            var check = await Tool(steps, layout, () => knotc.RunWithConfAsync(candidatePath, ["conf-check"], ToolTimeout, cancellationToken));
            if (!check.Ok)
            {
                File.Delete(candidatePath);
                throw Refused($"knot.conf refused by knotc conf-check: {Trim(check.Output)}", steps, layout);
            }

            steps.Add(confChanged ? "knotc conf-check: candidate knot.conf valid" : "knotc conf-check: knot.conf valid (unchanged)");
            validated = true;
        }
        catch (ZoneFileException e)
        {
            throw Refused(e.Message, steps, layout);
        }
        finally
        {
            if (!validated)
            {
                DeleteDirectory(staging);
            }
        }

        // 2. Switch: previous files kept as .prev, candidates renamed into place.
        var switched = Switch(layout, staged, confChanged);
        DeleteDirectory(staging);
        steps.Add($"switched: knot.conf {(confChanged ? "replaced" : "unchanged")}, {(staged.Count == 0 ? "no zone file changed" : "zone files " + string.Join(", ", staged.Keys))} (previous kept as .prev)");
        var state = new DnsAppliedState(
            version,
            args.Config,
            [.. args.Config.Zones.Select(z => args.Files.FirstOrDefault(f => f.Zone == z.Name) is { } f ? new DnsAppliedFile(f.Zone, f.Serial, f.Sha256, f.Size) : liveFiles.GetValueOrDefault(z.Name)).OfType<DnsAppliedFile>()]);

        if (!(await runtime.InspectAsync(ServiceKinds.Dns, cancellationToken)).Running)
        {
            DnsAppliedStore.Write(layout, state);
            manager.SetDnsListenHeld(newListen);
            steps.Add("dns is not running: not reloaded, no health check; the change takes effect when it starts"
                + (listenChanged ? $" (then it listens on {DnsListen.Display(newListen)})" : string.Empty));
            logger.DnsApplied(version, args.Config.Zones.Count, staged.Count, total.ElapsedMilliseconds);
            return Output(version, false, candidateConf, [.. args.Config.Zones.Select(z => new DnsZoneState(z.Name, null, "not running"))], steps, refused, warnings);
        }

        // 3. Reload (restart for new listen entries) and health-check; roll back on failure.
        var restart = listenChanged;
        var endpoint = ServiceConfigs.DnsProbeEndpoint(newListen[0]);

        // A zone new in this configuration is loaded by the configuration reload itself; a zone-reload after it would
        // load it a second time (measured: 3.2 s more for a 1M-record zone). The health check is what proves it loaded.
        bool IsNew(string zone) => previous is null || !previous.Spec.Zones.Any(z => z.Name == zone);
        string failure;
        IReadOnlyList<DnsZoneState> zones = [];
        try
        {
            var reloadError = restart
                ? await RestartAsync(runtime, steps, cancellationToken)
                : await ReloadAsync(confChanged, [.. staged.Keys.Where(z => args.Config.Zones.Any(c => c.Name == z) && !(confChanged && IsNew(z)))], steps, cancellationToken);
            if (reloadError is null && restart)
            {
                reloadError = await ListenAnswersAsync(runtime, record.Version, newListen, "the new listen entries", steps, cancellationToken);
            }

            if (reloadError is null)
            {
                var watch = Stopwatch.StartNew();
                // Large zone files take Knot time to load: at least 2 MB/s of zone text on top of the base timeout.
                (zones, failure) = await HealthCheckAsync(endpoint, args.Config.Zones, cancellationToken, TimeSpan.FromSeconds(args.Files.Sum(f => f.Size) / 2e6));
                if (failure.Length == 0)
                {
                    DnsAppliedStore.Write(layout, state);
                    manager.SetDnsListenHeld(newListen);
                    steps.Add(string.Create(CultureInfo.InvariantCulture, $"health check: {args.Config.Zones.Count} zone(s) answer their serial on {endpoint} ({watch.ElapsedMilliseconds} ms)"));
                    steps.Add(string.Create(CultureInfo.InvariantCulture, $"version {version} is live ({total.ElapsedMilliseconds} ms)"));
                    logger.DnsApplied(version, args.Config.Zones.Count, staged.Count, total.ElapsedMilliseconds);
                    return Output(version, false, candidateConf, zones, steps, refused, warnings) with { Listen = newListen, Service = manager.Status(ServiceKinds.Dns) };
                }

                failure = "health check failed: " + failure;
            }
            else
            {
                failure = reloadError;
            }
        }
        catch (ServiceRuntimeException e)
        {
            failure = e.Message;
        }

        steps.Add(failure);
        var rollback = await RollBackAsync(runtime, record.Version, layout, switched, previous, liveListen, restart, steps);
        var message = $"{failure}; {rollback}";
        logger.DnsApplyRolledBack(version, message);
        throw new DnsApplyException(message, Output(previous?.Version ?? 0, true, await ReadOrEmptyAsync(layout.ConfigFile), zones, steps, refused, warnings) with { Service = manager.Status(ServiceKinds.Dns) });
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

    private sealed record Switched(bool Conf, IReadOnlyList<(string Zone, string Live, bool HadPrevious)> Zones);

    private static Switched Switch(ServiceLayout layout, IReadOnlyDictionary<string, string> staged, bool confChanged)
    {
        Directory.CreateDirectory(KnotConf.ZonesPath(layout));
        var zones = new List<(string, string, bool)>();
        foreach (var (zone, path) in staged)
        {
            var live = KnotConf.ZoneFilePath(layout, zone);
            var had = File.Exists(live);
            if (had)
            {
                File.Move(live, live + ".prev", overwrite: true);
            }

            File.Move(path, live, overwrite: true);
            zones.Add((zone, live, had));
        }

        var candidate = layout.ConfigFile + ".new";
        if (confChanged)
        {
            if (File.Exists(layout.ConfigFile))
            {
                File.Copy(layout.ConfigFile, layout.ConfigFile + ".prev", overwrite: true);
            }

            File.Move(candidate, layout.ConfigFile, overwrite: true);
        }
        else
        {
            File.Delete(candidate);
        }

        return new Switched(confChanged, zones);
    }

    /// <summary>
    /// After a restart for new listen entries: every entry answers (any DNS answer), or the reason it does not (knotd
    /// exited: its last output, e.g. a port in use; or no answer in time). Null when all answer.
    /// </summary>
    private async Task<string?> ListenAnswersAsync(IServiceRuntime runtime, string version, IReadOnlyList<string> listen, string what, StepLog steps, CancellationToken cancellationToken)
    {
        try
        {
            await manager.WaitDnsAnsweringHeldAsync(runtime, version, listen, steps, cancellationToken);
            steps.Add($"listening on {DnsListen.Display(listen)}: every entry answers");
            return null;
        }
        catch (ServiceCommandException e)
        {
            return $"{what} ({DnsListen.Display(listen)}) do not answer: {e.Message}";
        }
    }

    private async Task<string> RollBackAsync(IServiceRuntime runtime, string version, ServiceLayout layout, Switched switched, DnsAppliedState? previous, IReadOnlyList<string> liveListen, bool restart, StepLog steps)
    {
        var to = previous is null ? "the configuration before (no version applied yet)" : $"version {previous.Version}";
        try
        {
            if (switched.Conf && File.Exists(layout.ConfigFile + ".prev"))
            {
                File.Move(layout.ConfigFile + ".prev", layout.ConfigFile, overwrite: true);
            }

            foreach (var (_, live, had) in switched.Zones)
            {
                if (had)
                {
                    File.Move(live + ".prev", live, overwrite: true);
                }
                else
                {
                    File.Delete(live);
                }
            }

            steps.Add($"restored the files of {to}");
            var oldZones = previous?.Spec.Zones ?? [];
            var reloadError = restart
                ? await RestartAsync(runtime, steps, CancellationToken.None)
                : await ReloadAsync(switched.Conf, [.. switched.Zones.Select(z => z.Zone).Where(z => oldZones.Any(o => o.Name == z))], steps, CancellationToken.None);
            if (reloadError is null && restart)
            {
                reloadError = await ListenAnswersAsync(runtime, version, liveListen, "the previous listen entries", steps, CancellationToken.None);
            }

            if (reloadError is not null)
            {
                return $"rolling back to {to} failed: {reloadError}";
            }

            if (previous is not null)
            {
                var endpoint = ServiceConfigs.DnsProbeEndpoint(liveListen[0]);
                var (_, failure) = await HealthCheckAsync(endpoint, oldZones, CancellationToken.None);
                if (failure.Length > 0)
                {
                    return $"rolled back to {to} but it does not answer as before: {failure}";
                }

                steps.Add($"the zones of {to} answer their serials again");
            }

            return $"rolled back to {to}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ServiceRuntimeException)
        {
            return $"rolling back to {to} failed: {e.Message}";
        }
    }

    /// <summary>Writes the uncompressed text of <paramref name="file"/> to <paramref name="path"/>, checking size and sha256.</summary>
    private async Task FetchAsync(DnsZoneFile file, string path, CancellationToken cancellationToken)
    {
        if (file.GzipBase64 is { } inline)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(inline);
            }
            catch (FormatException)
            {
                throw new ZoneFileException($"zone {file.Zone}: the inline content is not base64");
            }

            await using var source = new MemoryStream(bytes);
            await WriteVerifiedAsync(file, source, path, cancellationToken);
            return;
        }

        if (file.Url is not { } url)
        {
            throw new ZoneFileException($"zone {file.Zone}: neither inline content nor a URL");
        }

        if (connection is null)
        {
            throw new ZoneFileException($"zone {file.Zone}: this agent has no connection to fetch {url} with");
        }

        HttpResponseMessage response;
        try
        {
            response = await connection.Client.GetAsync(connection.Resolve(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ZoneFileException($"zone {file.Zone}: cannot fetch {url}: {e.Message}");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new ZoneFileException(response.StatusCode switch
                {
                    HttpStatusCode.Gone => $"zone {file.Zone}: zone changed since the push was made; push again (410 from {url})",
                    HttpStatusCode.Forbidden => $"zone {file.Zone}: the control plane says the zone is not assigned to this server (403 from {url})",
                    HttpStatusCode.NotFound => $"zone {file.Zone}: not found at {url} (404)",
                    _ => $"zone {file.Zone}: fetching {url} answered {(int)response.StatusCode} {response.ReasonPhrase}",
                });
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await WriteVerifiedAsync(file, body, path, cancellationToken);
        }
    }

    private static async Task WriteVerifiedAsync(DnsZoneFile file, Stream gzip, string path, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using var unzip = new GZipStream(gzip, CompressionMode.Decompress);
            await using var output = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous });
            var buffer = new byte[81920];
            int read;
            while ((read = await unzip.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > file.Size)
                {
                    throw new ZoneFileException($"zone {file.Zone}: the content is larger than the {file.Size} bytes announced");
                }

                sha.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            output.Flush(flushToDisk: true);
        }
        catch (InvalidDataException e)
        {
            throw new ZoneFileException($"zone {file.Zone}: the content is not valid gzip: {e.Message}");
        }

        if (size != file.Size)
        {
            throw new ZoneFileException($"zone {file.Zone}: {size} bytes received, {file.Size} announced");
        }

        var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (!string.Equals(hash, file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ZoneFileException($"zone {file.Zone}: sha256 {hash} does not match the announced {file.Sha256}");
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

    private static void ResetDirectory(string path)
    {
        DeleteDirectory(path);
        StateDirectory.CreatePrivate(path);
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

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
