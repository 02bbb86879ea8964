using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Dns;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Servers.Dns;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts.Versions;

namespace ManagedServers.Grains.Servers.Parts.Dns;

/// <summary>
/// The server's DNS side: zones assigned, listen entries, the serial of each zone live on the server and the numbered
/// configuration versions it applied. A push (config, zones, revert) is a job whose one <c>dns.apply</c> command carries
/// the model (<see cref="DnsConfigSpec"/>) and the zone files to write: small ones inline, large ones as a URL the agent
/// streams (gzip) over its mTLS connection. The agent validates, switches atomically, reloads, health-checks and rolls
/// back by itself; the grain records what the agent reports live: a new version only when the rendered knot.conf
/// changed, and the serial of every zone served. The DNS state is its own persistent state, written only by these
/// changes and before the job that caused them, so a silo lost in between replays the result onto the same versions.
/// </summary>
public sealed partial class DnsPart : ServerPart, IServiceJobParticipant, IDnsApplyJobs
{
    private readonly IPersistentState<ServerDnsState> _store;
    private readonly TimeProvider _time;
    private readonly ILogger<DnsPart> _logger;
    private ConfigVersionsPart? _versions;

    public DnsPart(IServerHost host, TimeProvider time, ILogger<DnsPart> logger)
        : base(host)
    {
        _store = host.State<ServerDnsState>("dns");
        _time = time;
        _logger = logger;
    }

    /// <summary>Zone files up to this size (gzip) travel inside the command; larger ones are streamed by the agent.</summary>
    internal const int InlineZoneBytes = 32 * 1024;

    /// <summary>At most this much zone data (gzip) inline in one command; the rest is streamed.</summary>
    internal const int InlineTotalBytes = 128 * 1024;

    private ServerDnsState DnsConfig => _store.State;

    private ConfigVersionsPart ConfigVersions => _versions ??= Host.Part<ConfigVersionsPart>();

    private string Id => Host.Id;

    private IGrainFactory GrainFactory => Host.GrainFactory;

    private Task SaveDnsAsync() => _store.WriteStateAsync();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await MoveDnsVersionsAsync();
        try
        {
            await AnnounceZonesAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAnnounceFailed(_logger, Id, e.Message);
        }
    }

    public override async Task OnDeleteAsync()
    {
        DnsConfig.Zones.Clear();
        try
        {
            await AnnounceZonesAsync(save: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The index is a hint its readers confirm: a deleted server left in it is filtered out.
            LogAnnounceFailed(_logger, Id, e.Message);
        }

        await _store.ClearStateAsync();
        _store.State = new ServerDnsState();
    }

    public Task<ServerDnsSnapshot> GetDnsAsync()
    {
        Host.RequireDefinition();
        return SnapshotDnsAsync();
    }

    public async Task<ServerDnsSnapshot> SetZonesAsync(ImmutableArray<string> zones)
    {
        RequireDnsServer();
        var names = zones.IsDefault ? [] : zones.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var summaries = await Task.WhenAll(names.Select(n => GrainFactory.GetGrain<IZoneGrain>(n).GetSummaryAsync()));
        var missing = names.Where((_, i) => summaries[i] is null).ToList();
        if (missing.Count > 0)
        {
            throw ZonesNotFound(missing);
        }

        if (!names.SequenceEqual(DnsConfig.Zones))
        {
            DnsConfig.Zones = names;
            await SaveDnsAsync();
            LogZonesAssigned(_logger, Id, names.Count);
        }

        await AnnounceZonesAsync();

        return await SnapshotDnsAsync(summaries.ToDictionary(s => s!.Name, s => (long?)s!.Serial, StringComparer.Ordinal));
    }

    public async Task<ServerDnsSnapshot> AssignZoneAsync(string zone)
    {
        RequireDnsServer();
        if (await GrainFactory.GetGrain<IZoneGrain>(zone).GetSummaryAsync() is null)
        {
            throw ZonesNotFound([zone]);
        }

        var at = DnsConfig.Zones.BinarySearch(zone, StringComparer.Ordinal);
        if (at < 0 && DnsConfig.Zones.Count >= ServerDnsLimits.MaxZones)
        {
            throw new ConflictException($"server '{Host.RequireDefinition().Name}' has {DnsConfig.Zones.Count} zones assigned: at most {ServerDnsLimits.MaxZones} per server");
        }

        if (at < 0)
        {
            DnsConfig.Zones.Insert(~at, zone);
            await SaveDnsAsync();
            LogZoneAssigned(_logger, Id, zone, DnsConfig.Zones.Count);
        }

        await AnnounceZonesAsync();

        return await SnapshotDnsAsync();
    }

    public async Task<ServerDnsSnapshot> UnassignZoneAsync(string zone)
    {
        RequireDnsServer();
        if (DnsConfig.Zones.Remove(zone))
        {
            await SaveDnsAsync();
            LogZoneUnassigned(_logger, Id, zone, DnsConfig.Zones.Count);
        }
        else if (await GrainFactory.GetGrain<IZoneGrain>(zone).GetSummaryAsync() is null)
        {
            throw new NotFoundException($"zone '{zone}' not found: it is not assigned to server '{Host.RequireDefinition().Name}' and does not exist");
        }

        await AnnounceZonesAsync();
        return await SnapshotDnsAsync();
    }

    /// <summary>Only DNS servers serve zones.</summary>
    private void RequireDnsServer()
    {
        var definition = Host.RequireDefinition();
        if (definition.Kind != ServerKind.Dns)
        {
            throw new ConflictException($"server '{definition.Name}' is a {ContractsJson.WireName(definition.Kind)} server: only DNS servers serve zones") { Field = "kind" };
        }
    }

    private static NotFoundException ZonesNotFound(List<string> missing) =>
        new($"zone{(missing.Count == 1 ? string.Empty : "s")} not found: {string.Join(", ", missing)} (create or import {(missing.Count == 1 ? "it" : "them")} first: POST /api/v1/zones)");

    public Task<bool> IsZoneAssignedAsync(string zone) => Task.FromResult(Host.Definition is not null && DnsConfig.Zones.Contains(zone));

    public Task<ServerZone?> GetZoneAsync(string zone, long? serial)
    {
        if (Host.Definition is null || DnsConfig.Zones.BinarySearch(zone, StringComparer.Ordinal) < 0)
        {
            return Task.FromResult<ServerZone?>(null);
        }

        var applied = DnsConfig.Applied.GetValueOrDefault(zone);
        return Task.FromResult<ServerZone?>(new ServerZone(zone, serial, applied?.Serial, applied?.At));
    }

    /// <summary>
    /// Tells the zones' server index (<see cref="IZoneServersGrain"/>) what changed since it was last told, after the
    /// assignment itself is stored; then stores what it was told (<paramref name="save"/>), so a change cut short is
    /// finished at the next activation.
    /// </summary>
    private async Task AnnounceZonesAsync(bool save = true)
    {
        // A change whose announcement failed is announced by the next call (a retry of the same change included).
        if (DnsConfig.Announced.SequenceEqual(DnsConfig.Zones))
        {
            return;
        }

        var now = DnsConfig.Zones.ToHashSet(StringComparer.Ordinal);
        var before = DnsConfig.Announced.ToHashSet(StringComparer.Ordinal);
        var changes = now.Except(before).Select(z => (z, true)).Concat(before.Except(now).Select(z => (z, false))).ToList();
        await Task.WhenAll(changes.Select(c => GrainFactory.GetGrain<IZoneServersGrain>(c.z).SetAsync(Id, c.Item2)));
        DnsConfig.Announced = [.. DnsConfig.Zones];
        if (save)
        {
            await SaveDnsAsync();
        }
    }

    public Task<ImmutableArray<DnsConfigVersionSummary>> ListConfigVersionsAsync()
    {
        Host.RequireDefinition();
        return Task.FromResult(ConfigVersions.List(ServiceKinds.Dns).Select(ToDnsSummary).ToImmutableArray());
    }

    public Task<DnsConfigVersion?> GetConfigVersionAsync(int number)
    {
        Host.RequireDefinition();
        if (ConfigVersions.Get(ServiceKinds.Dns, number) is not { } version)
        {
            return Task.FromResult<DnsConfigVersion?>(null);
        }

        var model = DnsVersionModel.Parse(version.ModelJson);
        return Task.FromResult<DnsConfigVersion?>(new DnsConfigVersion(
            ToDnsSummary(version.Summary), [.. model.Listen], [.. model.Zones.Select(z => new ServerZone(z.Name, z.Serial, z.Serial, z.At))], version.Content));
    }

    private static DnsConfigVersionSummary ToDnsSummary(ConfigVersionSummary v) => new(v.Number, v.AppliedAt, v.JobId, v.Items, v.Sha256, v.Live);

    private async Task<ServerDnsSnapshot> SnapshotDnsAsync(Dictionary<string, long?>? serials = null)
    {
        serials ??= await CurrentSerialsAsync(DnsConfig.Zones);
        var zones = DnsConfig.Zones.Select(name =>
        {
            var applied = DnsConfig.Applied.GetValueOrDefault(name);
            return new ServerZone(name, serials.GetValueOrDefault(name), applied?.Serial, applied?.At);
        });
        return new ServerDnsSnapshot(Id, [.. zones], [.. DnsConfig.Listen], ConfigVersions.Live(ServiceKinds.Dns));
    }

    private async Task<Dictionary<string, long?>> CurrentSerialsAsync(IEnumerable<string> zones)
    {
        var list = zones.ToList();
        var summaries = await Task.WhenAll(list.Select(n => GrainFactory.GetGrain<IZoneGrain>(n).GetSummaryAsync()));
        return list.Select((n, i) => (n, summaries[i]?.Serial)).ToDictionary(x => x.n, x => x.Serial, StringComparer.Ordinal);
    }

    /// <summary>Push jobs need a DNS server with its dns service installed.</summary>
    private void CheckDnsFits(IJobContext context, ServerDefinition definition)
    {
        if (definition.Kind != ServerKind.Dns)
        {
            throw new ConflictException($"server '{definition.Name}' is a {ContractsJson.WireName(definition.Kind)} server: only DNS servers take DNS configuration and zones") { Field = "kind" };
        }

        if (!context.Services.Any(s => s.Kind == ServiceKinds.Dns))
        {
            throw new ConflictException($"server '{definition.Name}' runs no dns service: add it first (POST /api/v1/servers/{Id}/services {{\"kind\":\"dns\"}})");
        }
    }

    /// <summary>The listen entries a service request names (<c>listen</c>, or the older <c>listen_address</c>/<c>port</c>), or null.</summary>
    private static IReadOnlyList<string>? RequestedListen(ServiceJobSpec spec) =>
        spec.Listen is { } listen ? [.. listen]
        : spec.ListenAddress is not null || spec.Port is not null ? DnsListen.FromAddressAndPort(spec.ListenAddress, spec.Port)
        : null;

    /// <summary>
    /// The new listen entries when an update of the installed dns service changes them (null: it does not). Such a change
    /// is applied like a push (<c>dns.apply</c>: validated, knotd restarted, every entry checked, rolled back on failure)
    /// and is a new configuration version. It keeps the version running: asking for another version at the same time is
    /// refused (one change at a time, each with its own rollback).
    /// </summary>
    private IReadOnlyList<string>? ListenChangeOf(IJobContext context, ServiceJobSpec spec)
    {
        if (RequestedListen(spec) is not { } requested || context.Services.FirstOrDefault(s => s.Kind == ServiceKinds.Dns) is not { } service)
        {
            return null;
        }

        // What is live: the agent's report, else what the control plane last made live.
        var live = service.Listen ?? (DnsConfig.Listen.Count > 0 ? DnsListen.Display(DnsConfig.Listen) : null);
        if (live == DnsListen.Display(requested))
        {
            return null;
        }

        if (spec.Version is { } version && version != service.Version)
        {
            throw new ConflictException($"the dns service runs {service.Version}: change its version ({version}) and its listen entries ({DnsListen.Display(requested)}) one at a time, each is applied and rolled back on its own") { Field = "version" };
        }

        return requested;
    }

    string IServiceJobParticipant.Service => ServiceKinds.Dns;

    async Task<JobPlan?> IServiceJobParticipant.PlanUpdateAsync(IJobContext context, ServiceJobSpec spec)
    {
        if (ListenChangeOf(context, spec) is not { } change)
        {
            return null;
        }

        var (args, plan) = await PlanDnsApplyAsync(context, JobKinds.UpdateService, new DnsPushSpec(), null, change);
        return new JobPlan(JobKinds.UpdateService, CommandKinds.DnsApply, args, [plan]);
    }

    /// <summary>A DNS service keeps its listen entries across updates unless the request names new ones.</summary>
    ServiceInstallArgs IServiceJobParticipant.Install(ServiceInstallArgs args, ServiceJobSpec spec) =>
        args with { Listen = RequestedListen(spec) ?? (DnsConfig.Listen.Count > 0 ? [.. DnsConfig.Listen] : null) };

    async Task IServiceJobParticipant.OnServiceResultAsync(JobEntry job)
    {
        if (OnDnsServiceResult(job))
        {
            await SaveDnsAsync();
        }
    }

    async Task<JobPlan> IDnsApplyJobs.PlanApplyAsync(IJobContext context, JobRequest request)
    {
        CheckDnsFits(context, Host.RequireDefinition());
        var (args, plan) = await PlanDnsApplyAsync(context, request.Kind, request.Spec as DnsPushSpec ?? new DnsPushSpec(), (request.Spec as DnsRevertSpec)?.ConfigVersion);
        return new JobPlan(request.Kind, CommandKinds.DnsApply, args, [plan]);
    }

    async Task<string?> IDnsApplyJobs.OnAppliedAsync(IJobContext context, JobEntry job, string? output)
    {
        var refused = await OnDnsApplyResultAsync(context, job, output);
        await SaveDnsAsync(); // before the job (the version is saved before this): a replayed result lands on the same versions and serials
        return refused.Count > 0
            ? $"{string.Join("; ", refused.Select(r => $"zone {r.Zone} refused, knotd would not load it: {r.Reason}"))}; the other zones were applied (configuration version {ConfigVersions.Live(ServiceKinds.Dns)} is live)"
            : null;
    }

    Task IDnsApplyJobs.OnApplyFailedAsync(IJobContext context, JobEntry job, string? output)
    {
        OnDnsApplyFailed(context, job, output);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Builds the <c>dns.apply</c> command of a push: the model to serve and the zone files the server lacks. Throws
    /// (and nothing is stored) when a zone has gone or the version to revert to is unknown. A listen change
    /// (<paramref name="listenChange"/>) keeps the zones live at their live serials and sends no file.
    /// </summary>
    private async Task<(string ArgsJson, string Plan)> PlanDnsApplyAsync(IJobContext context, string kind, DnsPushSpec push, int? revertTo, IReadOnlyList<string>? listenChange = null)
    {
        if (listenChange is not null)
        {
            var live = DnsConfig.Applied.OrderBy(z => z.Key, StringComparer.Ordinal).Select(z => new DnsZoneSpec(z.Key, z.Value.Serial)).ToList();
            var change = await DnsApplyArgsAsync([.. listenChange], live, []);
            var from = context.Services.FirstOrDefault(s => s.Kind == ServiceKinds.Dns)?.Listen ?? DnsListen.Display(DnsConfig.Listen);
            return (change, $"listen entries {from} → {DnsListen.Display(listenChange)}; {(live.Count == 1 ? "1 zone stays at its" : $"{live.Count} zones stay at their")} live serial; knotd restarts (it binds at start only)");
        }

        var zones = DnsConfig.Zones;
        var listen = DnsConfig.Listen;
        if (kind == JobKinds.RevertConfig)
        {
            var version = ConfigVersions.Find(ServiceKinds.Dns, revertTo ?? 0)
                ?? throw new NotFoundException($"configuration version {revertTo} of server '{Id}' not found (the last {ConfigVersionsPart.History} are kept)");
            var model = DnsVersionModel.Parse(version.ModelJson);
            zones = [.. model.Zones.Select(z => z.Name)];
            listen = [.. model.Listen];
        }

        var summaries = await Task.WhenAll(zones.Select(n => GrainFactory.GetGrain<IZoneGrain>(n).GetSummaryAsync()));
        var gone = zones.Where((_, i) => summaries[i] is null).ToList();
        if (gone.Count > 0)
        {
            throw new ConflictException($"zone{(gone.Count == 1 ? string.Empty : "s")} assigned but deleted: {string.Join(", ", gone)}; assign the zones again (PUT /api/v1/servers/{Id}/zones)");
        }

        var specZones = new List<DnsZoneSpec>(zones.Count);
        var send = new List<ZoneSummary>();
        foreach (var summary in summaries)
        {
            var zone = summary!;
            var applied = DnsConfig.Applied.GetValueOrDefault(zone.Name);
            var sendThis = kind switch
            {
                JobKinds.PushZones => push.Full || applied is null || applied.Serial != zone.Serial,
                _ => applied is null, // config pushes send only the zones the server lacks; the rest stay at their live serial
            };
            if (sendThis)
            {
                send.Add(zone);
            }

            specZones.Add(new DnsZoneSpec(zone.Name, sendThis ? zone.Serial : applied!.Serial));
        }

        var files = new List<DnsZoneFile>(send.Count);
        var inline = 0L;
        foreach (var zone in send)
        {
            if (zone.GzipSize <= InlineZoneBytes && inline + zone.GzipSize <= InlineTotalBytes
                && await GrainFactory.GetGrain<IZoneGrain>(zone.Name).GetFileAsync() is { } blob && blob.Serial == zone.Serial)
            {
                inline += blob.Gzip.Length;
                files.Add(new DnsZoneFile(zone.Name, zone.Serial, zone.Sha256, zone.Size, GzipBase64: Convert.ToBase64String(blob.Gzip)));
            }
            else
            {
                files.Add(new DnsZoneFile(zone.Name, zone.Serial, zone.Sha256, zone.Size, Url: AgentApi.ZoneFile(zone.Name, zone.Serial)));
            }
        }

        var args = await DnsApplyArgsAsync([.. listen], specZones, files, push.Atomic);
        var plan = $"{specZones.Count} zone{(specZones.Count == 1 ? string.Empty : "s")}, {files.Count} to send"
            + (files.Count == 0 ? string.Empty : $" ({string.Join(", ", files.Take(5).Select(f => $"{f.Zone} serial {f.Serial}"))}{(files.Count > 5 ? ", …" : string.Empty)})")
            + (kind == JobKinds.RevertConfig ? $"; the configuration of version {revertTo}" : string.Empty)
            + (push.Atomic ? "; all or nothing" : string.Empty);
        return (args, plan);
    }

    /// <summary>
    /// The <c>dns.apply</c> arguments (JSON) of the next version: the model (modules follow the DNS monitoring setting)
    /// and the files to write; <paramref name="atomic"/>: one zone knotd would not load refuses the whole change.
    /// </summary>
    private async Task<string> DnsApplyArgsAsync(IReadOnlyList<string> listen, IReadOnlyList<DnsZoneSpec> zones, IReadOnlyList<DnsZoneFile> files, bool atomic = false)
    {
        await Host.RefreshSettingsAsync();
        var spec = new DnsConfigSpec(listen, zones, Statistics: Host.Settings.DnsMonitoring, Dnstap: Host.Settings.DnsMonitoring);
        return JsonSerializer.Serialize(new DnsApplyArgs(ConfigVersions.NextNumber(ServiceKinds.Dns), spec, files, atomic), ContractsJson.Default.DnsApplyArgs);
    }

    /// <summary>
    /// A succeeded <c>dns.apply</c>: the zones answer with the serials the agent reports; a knot.conf unlike the last
    /// version's is a new version. Zones the agent refused (knotd would not load them) keep their live serial, or stay
    /// unserved when they are new; they are named in the steps and the result, and returned (the job then fails, the
    /// rest being applied). Idempotent: a replayed result finds the same knot.conf and serials.
    /// </summary>
    private async Task<IReadOnlyList<DnsZoneRefusal>> OnDnsApplyResultAsync(IJobContext context, JobEntry job, string? output)
    {
        var args = JsonSerializer.Deserialize(job.CommandArgsJson ?? "null", ContractsJson.Default.DnsApplyArgs)
            ?? throw new InvalidOperationException("the job has no dns.apply arguments");
        var result = (output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.DnsApplyOutput))
            ?? throw new InvalidOperationException("no dns.apply output");
        context.AddAgentSteps(job, result.Steps);

        var now = _time.GetUtcNow();
        var refused = result.Refused ?? [];
        var refusedNames = refused.Select(r => r.Zone).ToHashSet(StringComparer.Ordinal);
        var answered = result.Zones.Where(z => z.Serial is not null).ToDictionary(z => z.Zone, z => z.Serial!.Value, StringComparer.Ordinal);
        var applied = new Dictionary<string, AppliedZone>(StringComparer.Ordinal);
        foreach (var r in refused)
        {
            var live = DnsConfig.Applied.GetValueOrDefault(r.Zone);
            if (live is not null)
            {
                applied[r.Zone] = live;
            }

            context.Step(job, live is null
                ? $"zone {r.Zone} refused, knotd would not load it: {r.Reason}; it is not served"
                : $"zone {r.Zone} refused, knotd would not load it: {r.Reason}; serial {live.Serial} stays live");
        }

        foreach (var warning in result.Warnings ?? [])
        {
            context.Step(job, $"warning: {warning}");
        }

        foreach (var zone in args.Config.Zones.Where(z => !refusedNames.Contains(z.Name)))
        {
            var serial = answered.GetValueOrDefault(zone.Name, zone.Serial);
            var previous = DnsConfig.Applied.GetValueOrDefault(zone.Name);
            applied[zone.Name] = previous is not null && previous.Serial == serial ? previous : new AppliedZone { Serial = serial, At = now };
        }

        DnsConfig.Applied = applied;
        var model = new DnsVersionModel([.. args.Config.Listen], [.. args.Config.Zones.Where(z => applied.ContainsKey(z.Name)).Select(z => new DnsVersionModel.Zone(z.Name, applied[z.Name].Serial, now))]);
        var (liveVersion, changed) = await ConfigVersions.RecordAppliedAsync(ServiceKinds.Dns, job.Id, result.KnotConf, model.ToJson(), model.Zones.Count);
        if (job.Kind == JobKinds.RevertConfig)
        {
            DnsConfig.Zones = [.. args.Config.Zones.Select(z => z.Name).Order(StringComparer.Ordinal)];
        }

        if (job.Kind is JobKinds.RevertConfig or JobKinds.UpdateService)
        {
            DnsConfig.Listen = [.. args.Config.Listen]; // a revert or a listen change: these entries are the server's from now on
        }

        if (result.Service is { } service)
        {
            context.SetService(ServiceKinds.Dns, service);
        }

        context.Step(job, changed ? $"configuration version {liveVersion} is live" : $"configuration unchanged: version {liveVersion} stays live");
        var view = new JsonObject
        {
            ["config_version"] = liveVersion,
            ["config_changed"] = changed,
            ["listen"] = result.Listen is { } answering ? new JsonArray([.. answering.Select(e => (JsonNode)JsonValue.Create(e))]) : null,
            ["service"] = result.Service is { } status ? JsonSerializer.SerializeToNode(status, ContractsJson.Default.ServiceStatus) : null,
            ["zones"] = new JsonArray([.. args.Config.Zones.Where(z => applied.ContainsKey(z.Name)).Select(z => (JsonNode)new JsonObject
            {
                ["zone"] = z.Name,
                ["serial"] = applied[z.Name].Serial,
                ["sent"] = args.Files.Any(f => f.Zone == z.Name) && !refusedNames.Contains(z.Name),
            })]),
            ["refused"] = new JsonArray([.. refused.Select(r => (JsonNode)new JsonObject { ["zone"] = r.Zone, ["reason"] = r.Reason })]),
            ["warnings"] = new JsonArray([.. (result.Warnings ?? []).Select(w => (JsonNode)JsonValue.Create(w))]),
        };
        job.ResultJson = view.ToJsonString();
        return refused;
    }

    /// <summary>A failed <c>dns.apply</c>: say whether the agent rolled back (nothing else changes).</summary>
    private void OnDnsApplyFailed(IJobContext context, JobEntry job, string? output)
    {
        try
        {
            if (output is not null && JsonSerializer.Deserialize(output, ContractsJson.Default.DnsApplyOutput) is { } result)
            {
                context.AddAgentSteps(job, result.Steps);
                if (result.Service is { } service)
                {
                    context.SetService(ServiceKinds.Dns, service);
                }

                if (result.Refused is { Count: > 0 } refused)
                {
                    job.ResultJson = new JsonObject
                    {
                        ["refused"] = new JsonArray([.. refused.Select(r => (JsonNode)new JsonObject { ["zone"] = r.Zone, ["reason"] = r.Reason })]),
                    }.ToJsonString();
                }

                if (result.RolledBack)
                {
                    context.Step(job, $"the agent rolled back: version {(ConfigVersions.Live(ServiceKinds.Dns) is { } v ? v.ToString(CultureInfo.InvariantCulture) : "(none)")} stays live");
                }
            }
        }
        catch (JsonException)
        {
        }
    }

    /// <summary>A dns service installed or updated with listen entries: they are the server's from now on (true: changed).</summary>
    private bool OnDnsServiceResult(JobEntry job)
    {
        if (job.Service != ServiceKinds.Dns || job.Kind is not (JobKinds.AddService or JobKinds.UpdateService) || job.CommandArgsJson is null)
        {
            return false;
        }

        if (JsonSerializer.Deserialize(job.CommandArgsJson, ContractsJson.Default.ServiceInstallArgs)?.Listen is { } listen
            && !listen.SequenceEqual(DnsConfig.Listen))
        {
            DnsConfig.Listen = [.. listen];
            return true;
        }

        return false;
    }


    /// <summary>
    /// Versions an earlier release kept in the DNS state move to the config-versions part (written first; a repeat
    /// after a crash in between finds them there and only clears the DNS state's copy).
    /// </summary>
    private async Task MoveDnsVersionsAsync()
    {
        if (DnsConfig.Versions.Count == 0)
        {
            return;
        }

        var moved = DnsConfig.Versions.Select(v =>
        {
            var model = new DnsVersionModel([.. v.Listen], [.. v.Zones.Select(z => new DnsVersionModel.Zone(z.Name, z.Serial, z.At))]);
            return new ConfigVersionEntry { Number = v.Number, AppliedAt = v.AppliedAt, JobId = v.JobId, Sha256 = v.Sha256, Content = v.KnotConf, ModelJson = model.ToJson(), Items = v.Zones.Count };
        }).ToList();
        await ConfigVersions.ImportAsync(ServiceKinds.Dns, moved, DnsConfig.LastVersion, DnsConfig.LiveVersion);
        DnsConfig.Versions = [];
        DnsConfig.LastVersion = 0;
        DnsConfig.LiveVersion = null;
        await SaveDnsAsync();
    }

    [LoggerMessage(EventId = 1063, Level = LogLevel.Warning, Message = "Server {ServerId}: the zones' server index could not be told of its zones (it is told at the next activation): {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, string serverId, string reason);

    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "Server {ServerId}: {Count} zones assigned")]
    private static partial void LogZonesAssigned(ILogger logger, string serverId, int count);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Information, Message = "Server {ServerId}: zone {Zone} assigned ({Count} in all)")]
    private static partial void LogZoneAssigned(ILogger logger, string serverId, string zone, int count);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Information, Message = "Server {ServerId}: zone {Zone} unassigned ({Count} left)")]
    private static partial void LogZoneUnassigned(ILogger logger, string serverId, string zone, int count);
}
