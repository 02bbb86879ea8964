using System.Diagnostics;
using System.Globalization;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>The Knot side of a <c>dns.apply</c>, as the <see cref="ConfigApplier"/> runs it.</summary>
internal sealed partial class DnsApplier
{
    /// <summary>
    /// One <c>dns.apply</c> to knotd: knot.conf and the zone files that changed. A version is a knot.conf: a change of
    /// zone content alone keeps the live version's number (as the control plane does). Zones knotd would not load are
    /// refused: all of the change (atomic), or only those zones, each keeping its live file or staying out of knot.conf.
    /// </summary>
    private sealed class KnotChange : IConfigChange
    {
        private readonly DnsApplier _owner;
        private readonly IServiceRuntime _runtime;
        private readonly InstalledService _record;
        private readonly ServiceLayout _layout;
        private readonly StepLog _steps;
        private readonly bool _dnstap;
        private readonly IReadOnlyList<string> _liveListen;
        private readonly Dictionary<string, DnsAppliedFile> _liveFiles;
        private readonly Dictionary<string, string> _staged = new(StringComparer.Ordinal);
        private readonly List<DnsZoneRefusal> _refusals = [];
        private readonly List<string> _warnings = [];
        private bool _confChanged;

        private KnotChange(DnsApplier owner, DnsApplyArgs args, IServiceRuntime runtime, InstalledService record, ServiceLayout layout, StepLog steps, bool dnstap, string liveConf)
        {
            _owner = owner;
            _runtime = runtime;
            _record = record;
            _layout = layout;
            _steps = steps;
            _dnstap = dnstap;
            Args = args;
            LiveConf = liveConf;
            Previous = DnsAppliedStore.Read(layout);
            _liveFiles = (Previous?.Files ?? []).ToDictionary(f => f.Zone, StringComparer.Ordinal);

            // Listen entries: the spec's when it names some (a listen change), else those live now.
            _liveListen = KnotEngine.EffectiveListen(layout, record);
            NewListen = KnotConf.EffectiveListen(args.Config, _liveListen);
            ListenChanged = !NewListen.SequenceEqual(_liveListen, StringComparer.Ordinal);
            CandidateConf = KnotConf.Render(args.Config, layout, _liveListen, dnstap);
            _confChanged = !string.Equals(CandidateConf, liveConf, StringComparison.Ordinal);
            Version = _confChanged || Previous is null ? args.Version : Previous.Version;
        }

        /// <summary>The change as applied (without the zones refused when not atomic).</summary>
        public DnsApplyArgs Args { get; private set; }

        /// <summary>The version this change makes live.</summary>
        public int Version { get; private set; }

        public DnsAppliedState? Previous { get; }

        public string LiveConf { get; }

        public string CandidateConf { get; private set; }

        public IReadOnlyList<string> NewListen { get; }

        /// <summary>New listen entries: knotd binds its sockets at start only (a reload keeps the old ones), so it restarts.</summary>
        public bool ListenChanged { get; }

        public IReadOnlyList<DnsZoneRefusal> Refusals => _refusals;

        public IReadOnlyList<string> Warnings => _warnings;

        /// <summary>What each zone answered in the last health check.</summary>
        public IReadOnlyList<DnsZoneState> Zones { get; private set; } = [];

        public int StagedZones => _staged.Count;

        public string PreviousName => Previous is null ? "the configuration before (no version applied yet)" : $"version {Previous.Version}";

        public static async Task<KnotChange> PrepareAsync(DnsApplier owner, DnsApplyArgs args, IServiceRuntime runtime, InstalledService record, ServiceLayout layout, StepLog steps, CancellationToken cancellationToken)
        {
            var liveConf = File.Exists(layout.ConfigFile) ? await File.ReadAllTextAsync(layout.ConfigFile, cancellationToken) : string.Empty;
            var dnstap = await Tool(steps, layout, () => DnsModules.HasDnstapAsync(runtime, layout, record.Version, cancellationToken));
            return new KnotChange(owner, args, runtime, record, layout, steps, dnstap, liveConf);
        }

        public async Task<IReadOnlyList<StagedFile>?> StageAsync(string staging, CancellationToken cancellationToken)
        {
            var changed = Args.Files
                .Where(f => !(_liveFiles.TryGetValue(f.Zone, out var live) && live.Sha256 == f.Sha256 && live.Size == f.Size && new FileInfo(KnotConf.ZoneFilePath(_layout, f.Zone)) is { Exists: true } info && info.Length == f.Size))
                .ToList();
            var missing = Args.Config.Zones.Where(z => !Args.Files.Any(f => f.Zone == z.Name) && !File.Exists(KnotConf.ZoneFilePath(_layout, z.Name))).Select(z => z.Name).ToList();
            if (missing.Count > 0)
            {
                throw Refused($"no zone file for {string.Join(", ", missing)} (none sent and none on this server)", _steps, _layout);
            }

            if (Previous is not null && !_confChanged && changed.Count == 0 && SameSpec(Previous.Spec, Args.Config))
            {
                _steps.Add($"version {Version} is already live (same configuration, same zone files): nothing to do");
                return null;
            }

            _steps.Add(Previous is null ? $"applying version {Version} (none applied before)"
                : _confChanged ? $"applying version {Version} over version {Previous.Version}"
                : $"applying zone changes to version {Version} (knot.conf unchanged)");
            if (Args.Config.Dnstap && !_dnstap)
            {
                _steps.Add($"dnstap: this knotd ({_record.Version}) has no mod-dnstap (package knot-module-dnstap): rendered without it");
            }

            try
            {
                foreach (var file in changed)
                {
                    var path = Path.Combine(staging, KnotConf.ZoneFileName(file.Zone));
                    var watch = Stopwatch.StartNew();
                    await _owner.FetchAsync(file, path, cancellationToken);
                    _staged[file.Zone] = path;
                    _steps.Add(string.Create(CultureInfo.InvariantCulture, $"fetched {file.Zone} serial {file.Serial} ({file.Size} bytes, {(file.GzipBase64 is not null ? "inline" : "from the control plane")}) in {watch.ElapsedMilliseconds} ms; size and sha256 match"));
                }

                await CheckZonesAsync(cancellationToken);
            }
            catch (ZoneFileException e)
            {
                throw Refused(e.Message, _steps, _layout);
            }

            var candidatePath = Path.Combine(staging, _layout.ConfigFileName);
            AtomicFile.WriteAllText(candidatePath, CandidateConf, AtomicFile.OwnerOnly);
            var check = await Tool(_steps, _layout, () => _owner.Knotc.RunWithConfAsync(candidatePath, ["conf-check"], ToolTimeout, cancellationToken));
            if (!check.Ok)
            {
                throw Refused($"knot.conf refused by knotc conf-check: {Trim(check.Output)}", _steps, _layout);
            }

            _steps.Add(_confChanged ? "knotc conf-check: candidate knot.conf valid" : "knotc conf-check: knot.conf valid (unchanged)");
            List<StagedFile> files = [.. _staged.Select(z => new StagedFile(z.Value, KnotConf.ZoneFilePath(_layout, z.Key)))];
            if (_confChanged)
            {
                files.Add(new StagedFile(candidatePath, _layout.ConfigFile));
            }

            return files;
        }

        /// <summary>Checks each staged zone; refused ones refuse the change (atomic) or are left out of it.</summary>
        private async Task CheckZonesAsync(CancellationToken cancellationToken)
        {
            foreach (var (zone, path) in _staged)
            {
                var watch = Stopwatch.StartNew();
                var zoneCheck = await _owner.CheckZoneAsync(_runtime, _layout, Args.Config, zone, path, _dnstap, cancellationToken);
                if (zoneCheck.Refusal is { } reason)
                {
                    _refusals.Add(new DnsZoneRefusal(zone, reason));
                    _steps.Add($"{zoneCheck.Checker} {zone}: refused, knotd would not load it: {reason}");
                    continue;
                }

                _warnings.AddRange(zoneCheck.Warnings.Select(w => $"{zone}: {w}"));
                var verdict = zoneCheck.Warnings.Count == 0 ? "valid" : $"knotd loads it; Knot's optional checks report: {string.Join("; ", zoneCheck.Warnings)}";
                _steps.Add(string.Create(CultureInfo.InvariantCulture, $"{zoneCheck.Checker} {zone}: {verdict} ({watch.ElapsedMilliseconds} ms)"));
            }

            if (_refusals.Count == 0)
            {
                return;
            }

            // Refused zones stay as they are live (or out of knot.conf when new); the others apply, unless all or nothing.
            var reasons = string.Join("; ", _refusals.Select(r => $"zone {r.Zone} refused by knotd's load check: {r.Reason}"));
            if (Args.Atomic)
            {
                throw Refused($"{reasons} (all or nothing: no zone applied)", _steps, _layout, _refusals);
            }

            foreach (var r in _refusals)
            {
                File.Delete(_staged[r.Zone]);
                _staged.Remove(r.Zone);
            }

            Args = WithoutRefused(Args, _refusals, _liveFiles, _layout);
            CandidateConf = KnotConf.Render(Args.Config, _layout, _liveListen, _dnstap);
            _confChanged = !string.Equals(CandidateConf, LiveConf, StringComparison.Ordinal);
            Version = _confChanged || Previous is null ? Args.Version : Previous.Version;
            if (_staged.Count == 0 && !_confChanged && Previous is not null && SameSpec(Previous.Spec, Args.Config))
            {
                throw Refused(reasons, _steps, _layout, _refusals);
            }

            _steps.Add($"{reasons}; applying the rest");
        }

        public string DescribeSwitch(IReadOnlyList<SwitchedFile> switched) =>
            $"knot.conf {(_confChanged ? "replaced" : "unchanged")}, {(_staged.Count == 0 ? "no zone file changed" : "zone files " + string.Join(", ", _staged.Keys))}";

        public async Task<string?> ActivateAsync(CancellationToken cancellationToken)
        {
            if (ListenChanged)
            {
                return await _owner.RestartAsync(_runtime, _steps, cancellationToken)
                    ?? await _owner.ListenAnswersAsync(_runtime, _record.Version, NewListen, "the new listen entries", _steps, cancellationToken);
            }

            // A zone new in this configuration is loaded by the configuration reload itself; a zone-reload after it would
            // load it a second time (measured: 3.2 s more for a 1M-record zone). The health check is what proves it loaded.
            bool IsNew(string zone) => Previous is null || !Previous.Spec.Zones.Any(z => z.Name == zone);
            return await _owner.ReloadAsync(_confChanged, [.. _staged.Keys.Where(z => Args.Config.Zones.Any(c => c.Name == z) && !(_confChanged && IsNew(z)))], _steps, cancellationToken);
        }

        public async Task<string?> CheckHealthAsync(CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            var endpoint = KnotEngine.ProbeEndpoint(NewListen[0]);

            // Large zone files take Knot time to load: at least 2 MB/s of zone text on top of the base timeout.
            (var zones, var failure) = await _owner.HealthCheckAsync(endpoint, Args.Config.Zones, cancellationToken, TimeSpan.FromSeconds(Args.Files.Sum(f => f.Size) / 2e6));
            Zones = zones;
            if (failure.Length > 0)
            {
                return failure;
            }

            _steps.Add(string.Create(CultureInfo.InvariantCulture, $"health check: {Args.Config.Zones.Count} zone(s) answer their serial on {endpoint} ({watch.ElapsedMilliseconds} ms)"));
            return null;
        }

        public void Commit(bool running)
        {
            DnsAppliedStore.Write(_layout, new DnsAppliedState(
                Version,
                Args.Config,
                [.. Args.Config.Zones.Select(z => Args.Files.FirstOrDefault(f => f.Zone == z.Name) is { } f ? new DnsAppliedFile(f.Zone, f.Serial, f.Sha256, f.Size) : _liveFiles.GetValueOrDefault(z.Name)).OfType<DnsAppliedFile>()]));
            _owner.Manager.SetListenHeld(ServiceKinds.Dns, NewListen);
        }

        public async Task<string?> RestorePreviousAsync(IReadOnlyList<SwitchedFile> switched, CancellationToken cancellationToken)
        {
            var oldZones = Previous?.Spec.Zones ?? [];
            var reloadError = ListenChanged
                ? await _owner.RestartAsync(_runtime, _steps, cancellationToken)
                    ?? await _owner.ListenAnswersAsync(_runtime, _record.Version, _liveListen, "the previous listen entries", _steps, cancellationToken)
                : await _owner.ReloadAsync(_confChanged, [.. _staged.Keys.Where(z => oldZones.Any(o => o.Name == z))], _steps, cancellationToken);
            if (reloadError is not null)
            {
                return reloadError;
            }

            if (Previous is null)
            {
                return null;
            }

            var (_, failure) = await _owner.HealthCheckAsync(KnotEngine.ProbeEndpoint(_liveListen[0]), oldZones, cancellationToken);
            if (failure.Length > 0)
            {
                return $"it does not answer as before: {failure}";
            }

            _steps.Add($"the zones of {PreviousName} answer their serials again");
            return null;
        }
    }
}
