using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Grains.Interfaces.Dns;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Servers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>
/// A DNS server's zones and pushes on a three-silo cluster, with the agent played by the test: assignment checks, the
/// dns.apply a push sends (only changed zones; config pushes only missing ones), versions made from what the agent
/// reports live, a failed push changing nothing, a revert, and a replayed result making no second version.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServerDnsTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private TestCluster Cluster => fixture.Cluster;

    private IServerJobsGrain Jobs(string id) => Cluster.Client.GetGrain<IServerJobsGrain>(id);

    private IServerDnsGrain Dns(string id) => Cluster.Client.GetGrain<IServerDnsGrain>(id);

    private IManagedServerGrain Server(string id) => Cluster.Client.GetGrain<IManagedServerGrain>(id);

    private async Task<string> CreateServerAsync(ServerKind kind = ServerKind.Dns)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        await Server(id).CreateAsync(new ServerDefinition("dns-" + id[4..12], kind, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-" + id));
        await Server(id).RecordCertificateAsync(new AgentCertificate("serial-" + id, DateTimeOffset.UtcNow.AddHours(1), "CN=test CA"));
        return id;
    }

    [Fact]
    public async Task Versions_an_earlier_release_kept_in_the_dns_state_move_to_the_config_versions_part()
    {
        var id = await CreateServerAsync();
        var server = Server(id);
        var at = DateTimeOffset.UtcNow.AddDays(-1);
        var legacy = new ServerDnsState
        {
            Zones = ["a.test"],
            LastVersion = 7,
            LiveVersion = 7,
            Versions =
            [
                new DnsVersionEntry { Number = 6, AppliedAt = at, JobId = "job-6", Sha256 = "s6", KnotConf = "conf 6", Listen = ["127.0.0.1@53"], Zones = [] },
                new DnsVersionEntry { Number = 7, AppliedAt = at, JobId = "job-7", Sha256 = "s7", KnotConf = "conf 7", Listen = ["127.0.0.1@5353"], Zones = [new AppliedZone { Name = "a.test", Serial = 42, At = at }] },
            ],
        };
        var storage = ((InProcessSiloHandle?)Cluster.Primary)!.SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(Servers.GrainNames.Storage);
        var state = new GrainState<ServerDnsState>(new ServerDnsState());
        await storage.ReadStateAsync("dns", server.GetGrainId(), state); // its ETag, so the write below is accepted
        state.State = legacy;
        await storage.WriteStateAsync("dns", server.GetGrainId(), state);
        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var versions = await Dns(id).ListConfigVersionsAsync();
        Assert.Equal([(7, true, 1), (6, false, 0)], versions.Select(v => (v.Number, v.Live, v.ZoneCount)));
        var seven = (await Dns(id).GetConfigVersionAsync(7))!;
        Assert.Equal(("conf 7", "127.0.0.1@5353", "a.test", 42L), (seven.KnotConf, seven.Listen.Single(), seven.Zones.Single().Name, seven.Zones[0].AppliedSerial!.Value));
        Assert.Equal(7, (await Dns(id).GetDnsAsync()).LiveVersion);
        Assert.Equal(2, (await Cluster.Client.GetGrain<IServerConfigVersionsGrain>(id).ListServiceConfigVersionsAsync("dns")).Length);

        var moved = new GrainState<ServerDnsState>(new ServerDnsState());
        await storage.ReadStateAsync("dns", server.GetGrainId(), moved);
        Assert.Empty(moved.State!.Versions);
        Assert.Equal(["a.test"], moved.State.Zones);
    }

    private async Task<string> CreateZoneAsync(string? name = null, string www = "192.0.2.1")
    {
        name ??= $"z{Guid.NewGuid():N}"[..12] + ".test";
        await Cluster.Client.GetGrain<IZoneGrain>(name).CreateAsync(new ZoneCreate(ZoneFile(name, www)));
        return name;
    }

    private static string ZoneFile(string zone, string www) =>
        $"$ORIGIN {zone}.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A {www}\n";

    /// <summary>Installs a dns service the way the agent would answer it, with <paramref name="listen"/>.</summary>
    private async Task InstallDnsAsync(string id, params string[] listen)
    {
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns, Spec: new ServiceJobSpec(Listen: [.. listen])));
        var command = await TakeOneAsync(id);
        Assert.Equal(listen, command.Args!.Value.Deserialize(ContractsJson.Default.ServiceInstallArgs)!.Listen);
        var status = Running(listen);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow,
            Output: JsonSerializer.SerializeToElement(new ServiceCommandOutput(status, ["installed"]), ContractsJson.Default.ServiceCommandOutput)));
        Assert.Equal(JobState.Succeeded, (await Jobs(id).GetJobAsync(job.Id))!.State);
    }

    /// <summary>The dns service's status as the agent reports it, listening on <paramref name="listen"/>.</summary>
    private static ServiceStatus Running(IReadOnlyList<string> listen) =>
        new(ServiceKinds.Dns, ServiceStates.Running, DateTimeOffset.UtcNow, 0, "3.2.6", RuntimeNames.Exec, null, DnsListen.Display(listen));

    private Task<AgentCommand> TakeOneAsync(string id) => Server(id).TakeOneAsync(Patience);

    /// <summary>Starts a push and returns its job and the dns.apply the agent receives.</summary>
    private async Task<(JobSnapshot Job, AgentCommand Command, DnsApplyArgs Args)> PushAsync(string id, JobRequest request)
    {
        var job = await Jobs(id).StartJobAsync(request);
        var command = await TakeOneAsync(id);
        Assert.Equal(CommandKinds.DnsApply, command.Kind);
        return (job, command, command.Args!.Value.Deserialize(ContractsJson.Default.DnsApplyArgs)!);
    }

    /// <summary>The agent's answer: every zone of the spec answers its serial; knot.conf names the zones.</summary>
    private async Task AnswerAsync(string id, AgentCommand command, DnsApplyArgs args, bool success = true, bool rolledBack = false)
    {
        var conf = "# knot.conf\n" + string.Join('\n', args.Config.Listen.Select(l => "listen: " + l)) + "\n" + string.Join('\n', args.Config.Zones.Select(z => "zone: " + z.Name)) + "\n";
        var output = new DnsApplyOutput(args.Version, rolledBack, conf, [.. args.Config.Zones.Select(z => new DnsZoneState(z.Name, z.Serial))], ["validated", "switched", "reloaded", "health check passed"])
        {
            Listen = success ? args.Config.Listen : null,
            Service = success ? Running(args.Config.Listen) : null,
        };
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, success, DateTimeOffset.UtcNow, success ? null : "health check failed: rolled back",
            JsonSerializer.SerializeToElement(output, ContractsJson.Default.DnsApplyOutput)));
    }

    /// <summary>
    /// The agent applied the valid zones and refused one (knotd would not load it): the job fails naming the zone and
    /// knotd's reason, the others are recorded live, the refused one keeps its live serial (or is not pushed when new), and
    /// the next push sends it again. With all or nothing, the agent's refusal carries the zones and nothing is recorded.
    /// </summary>
    [Fact]
    public async Task A_zone_the_agent_refuses_is_named_and_the_others_are_recorded_live()
    {
        var id = await CreateServerAsync();
        await InstallDnsAsync(id, "127.0.0.1@15353");
        var (good, bad) = (await CreateZoneAsync(), await CreateZoneAsync());
        await Dns(id).SetZonesAsync([good, bad]);

        var (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        Assert.False(args.Atomic);
        var reason = "zone loader, error in zone, line 7 (invalid IPv4 address)";
        var output = new DnsApplyOutput(
            args.Version, false, $"zone: {good}\n", [new DnsZoneState(good, 1)], ["kzonecheck: refused"],
            Refused: [new DnsZoneRefusal(bad, reason)], Warnings: [$"{good}: [{good}.] missing glue record"]);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(output, ContractsJson.Default.DnsApplyOutput)));

        var done = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, done.State);
        Assert.Equal($"zone {bad} refused, knotd would not load it: {reason}; the other zones were applied (configuration version 1 is live)", done.Error);
        Assert.Contains(done.Steps, s => s.Message == $"zone {bad} refused, knotd would not load it: {reason}; it is not served");
        Assert.Contains(done.Steps, s => s.Message == $"warning: {good}: [{good}.] missing glue record");
        var result = JsonDocument.Parse(done.ResultJson!).RootElement;
        Assert.Equal(bad, result.GetProperty("refused")[0].GetProperty("zone").GetString());
        Assert.Equal([good], result.GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("zone").GetString()));
        var dns = await Dns(id).GetDnsAsync();
        Assert.Equal(1, dns.Zones.Single(z => z.Name == good).AppliedSerial);
        Assert.Null(dns.Zones.Single(z => z.Name == bad).AppliedSerial);

        // The next push sends the refused zone again; all or nothing travels to the agent, and its refusal names the zone.
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns, Spec: new DnsPushSpec(Atomic: true)));
        Assert.True(args.Atomic);
        Assert.Equal([bad], args.Files.Select(f => f.Zone));
        var refusal = new DnsApplyOutput(1, false, string.Empty, [], [$"refused: zone {bad} refused by knotd's load check: {reason} (all or nothing: no zone applied) (nothing live changed)"], Refused: [new DnsZoneRefusal(bad, reason)]);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, false, DateTimeOffset.UtcNow, $"zone {bad} refused by knotd's load check: {reason} (all or nothing: no zone applied)",
            JsonSerializer.SerializeToElement(refusal, ContractsJson.Default.DnsApplyOutput)));
        done = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains($"zone {bad} refused by knotd's load check", done.Error, StringComparison.Ordinal);
        Assert.Equal(bad, JsonDocument.Parse(done.ResultJson!).RootElement.GetProperty("refused")[0].GetProperty("zone").GetString());
        Assert.Null((await Dns(id).GetDnsAsync()).Zones.Single(z => z.Name == bad).AppliedSerial);
    }

    [Fact]
    public async Task A_zones_server_index_follows_assignments_and_deletions_and_learns_older_assignments_at_activation()
    {
        var (a, b) = (await CreateServerAsync(), await CreateServerAsync());
        var zone = await CreateZoneAsync();
        async Task<string[]> IndexOf(string z) => [.. await Cluster.Client.GetGrain<IZoneServersGrain>(z).ListAsync()];

        await Dns(a).SetZonesAsync([zone]);
        await Dns(b).AssignZoneAsync(zone);
        var both = new[] { a, b }.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(both, await IndexOf(zone));
        Assert.Equal((zone, (long?)null), ((await Dns(a).GetZoneAsync(zone, 5))!.Name, (await Dns(a).GetZoneAsync(zone, 5))!.AppliedSerial));
        Assert.Null(await Dns(a).GetZoneAsync("other.test", 5));

        await Dns(a).UnassignZoneAsync(zone);
        Assert.Equal(new[] { b }, await IndexOf(zone));
        await Server(b).DeleteAsync();
        Assert.Empty(await IndexOf(zone));

        // A server whose zones were assigned before the index existed (nothing announced) tells it when it next activates.
        var old = await CreateServerAsync();
        var older = await CreateZoneAsync();
        var storage = ((InProcessSiloHandle?)Cluster.Primary)!.SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(Servers.GrainNames.Storage);
        var state = new GrainState<ServerDnsState>(new ServerDnsState());
        await storage.ReadStateAsync("dns", Server(old).GetGrainId(), state);
        state.State = new ServerDnsState { Zones = [older] };
        await storage.WriteStateAsync("dns", Server(old).GetGrainId(), state);
        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Empty(await IndexOf(older));
        Assert.True(await Dns(old).IsZoneAssignedAsync(older)); // activates it
        Assert.Equal(new[] { old }, await IndexOf(older));
    }

    [Fact]
    public async Task Zones_are_assigned_to_dns_servers_only_and_must_exist()
    {
        var dhcp = await CreateServerAsync(ServerKind.Dhcp);
        var zone = await CreateZoneAsync();
        var wrong = await Assert.ThrowsAsync<ConflictException>(() => Dns(dhcp).SetZonesAsync([zone]));
        Assert.Contains("only DNS servers", wrong.Message, StringComparison.Ordinal);

        var id = await CreateServerAsync();
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => Dns(id).SetZonesAsync([zone, "nowhere.test"]));
        Assert.Contains("nowhere.test", missing.Message, StringComparison.Ordinal);
        Assert.Empty((await Dns(id).GetDnsAsync()).Zones); // nothing changed

        var dns = await Dns(id).SetZonesAsync([zone]);
        var assigned = Assert.Single(dns.Zones);
        Assert.Equal((zone, (long?)null), (assigned.Name, assigned.AppliedSerial));
        Assert.NotNull(assigned.Serial);
        Assert.True(await Dns(id).IsZoneAssignedAsync(zone));
        Assert.False(await Dns(id).IsZoneAssignedAsync("other.test"));

        // A push needs a dns service.
        var noService = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.PushZones, ServiceKinds.Dns)));
        Assert.Contains("add it first", noService.Message, StringComparison.Ordinal);
        Assert.Empty(await Jobs(id).ListJobsAsync());
    }

    [Fact]
    public async Task One_zone_is_assigned_or_unassigned_keeping_the_others()
    {
        var id = await CreateServerAsync();
        var (a, b) = (await CreateZoneAsync(), await CreateZoneAsync());
        await Dns(id).SetZonesAsync([a]);

        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await Dns(id).AssignZoneAsync(b)).Zones.Select(z => z.Name));
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await Dns(id).AssignZoneAsync(b)).Zones.Select(z => z.Name)); // again: no change

        var missing = await Assert.ThrowsAsync<NotFoundException>(() => Dns(id).AssignZoneAsync("nowhere.test"));
        Assert.Contains("zone not found: nowhere.test", missing.Message, StringComparison.Ordinal);
        var typo = await Assert.ThrowsAsync<NotFoundException>(() => Dns(id).UnassignZoneAsync("nowhere.test"));
        Assert.Contains("'nowhere.test'", typo.Message, StringComparison.Ordinal);

        Assert.Equal([b], (await Dns(id).UnassignZoneAsync(a)).Zones.Select(z => z.Name));
        Assert.Equal([b], (await Dns(id).UnassignZoneAsync(a)).Zones.Select(z => z.Name)); // again: no change
        Assert.False(await Dns(id).IsZoneAssignedAsync(a));

        // A zone deleted since it was assigned can still be unassigned.
        await Cluster.Client.GetGrain<IZoneGrain>(b).DeleteAsync();
        Assert.Empty((await Dns(id).UnassignZoneAsync(b)).Zones);

        var dhcp = await CreateServerAsync(ServerKind.Dhcp);
        Assert.Contains("only DNS servers", (await Assert.ThrowsAsync<ConflictException>(() => Dns(dhcp).AssignZoneAsync(a))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushes_send_what_changed_and_record_versions_from_what_the_agent_reports_live()
    {
        var id = await CreateServerAsync();
        await InstallDnsAsync(id, "127.0.0.1@15353");
        var first = await CreateZoneAsync();
        await Dns(id).SetZonesAsync([first]);

        // First push: the zone goes inline (small), with its serial and checksums.
        var (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        Assert.Equal(["127.0.0.1@15353"], args.Config.Listen);
        var file = Assert.Single(args.Files);
        Assert.Equal(first, file.Zone);
        Assert.Null(file.Url);
        var text = Gunzip(Convert.FromBase64String(file.GzipBase64!));
        Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(text)));
        Assert.Equal(file.Size, text.Length);
        Assert.Equal(file.Serial, Assert.Single(args.Config.Zones).Serial);
        await AnswerAsync(id, command, args);
        var done = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.True(done.State == JobState.Succeeded, done.Error);
        Assert.Equal(1, JsonDocument.Parse(done.ResultJson!).RootElement.GetProperty("config_version").GetInt32());
        Assert.Contains(done.Steps, s => s.Message == "agent: health check passed");
        Assert.Equal(file.Serial, Assert.Single((await Dns(id).GetDnsAsync()).Zones).AppliedSerial);

        // The same result again (a redelivery) makes no second version.
        await AnswerAsync(id, command, args);
        Assert.Single(await Dns(id).ListConfigVersionsAsync());

        // A change to the zone: push-zones sends it alone; the knot.conf is the same, so the version stays 1.
        await Cluster.Client.GetGrain<IZoneGrain>(first).ReplaceAsync(ZoneFile(first, "192.0.2.99"));
        var second = await CreateZoneAsync();
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        Assert.Equal([first], args.Files.Select(f => f.Zone)); // the second zone is not assigned yet
        Assert.True(args.Files[0].Serial > file.Serial);
        await AnswerAsync(id, command, args);
        Assert.Equal("False", JsonDocument.Parse((await Jobs(id).GetJobAsync(job.Id))!.ResultJson!).RootElement.GetProperty("config_changed").ToString());
        Assert.Single(await Dns(id).ListConfigVersionsAsync());
        var pushedSerial = args.Files[0].Serial;

        // A second zone and another change to the first: push-config sends only the missing zone; the first stays at
        // its live serial. The knot.conf changes: version 2.
        await Dns(id).SetZonesAsync([first, second]);
        await Cluster.Client.GetGrain<IZoneGrain>(first).ReplaceAsync(ZoneFile(first, "192.0.2.100"));
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushConfig, ServiceKinds.Dns));
        Assert.Equal([second], args.Files.Select(f => f.Zone));
        Assert.Equal(pushedSerial, args.Config.Zones.Single(z => z.Name == first).Serial);
        await AnswerAsync(id, command, args);
        var versions = await Dns(id).ListConfigVersionsAsync();
        Assert.Equal([2, 1], versions.Select(v => v.Number));
        Assert.True(versions[0].Live);
        var firstNow = (await Dns(id).GetDnsAsync()).Zones.Single(z => z.Name == first);
        Assert.NotEqual(firstNow.Serial, firstNow.AppliedSerial); // changed since, not sent by the config push

        // A failed push (the agent rolled back): nothing changes.
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns, Spec: new DnsPushSpec(Full: true)));
        Assert.Equal(2, args.Files.Count);
        await AnswerAsync(id, command, args, success: false, rolledBack: true);
        var failed = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains(failed.Steps, s => s.Message.Contains("rolled back: version 2 stays live", StringComparison.Ordinal));
        Assert.Equal(pushedSerial, (await Dns(id).GetDnsAsync()).Zones.Single(x => x.Name == first).AppliedSerial);
        Assert.Equal(2, (await Dns(id).ListConfigVersionsAsync()).Length);

        // Revert to version 1: only the first zone; on success the assignment follows, as version 3.
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.RevertConfig, ServiceKinds.Dns, Spec: new DnsRevertSpec(1)));
        Assert.Equal([first], args.Config.Zones.Select(x => x.Name));
        Assert.Empty(args.Files); // the first zone is live already
        await AnswerAsync(id, command, args);
        var dns = await Dns(id).GetDnsAsync();
        Assert.Equal([first], dns.Zones.Select(x => x.Name));
        Assert.Equal(3, dns.LiveVersion);
        var v3 = (await Dns(id).GetConfigVersionAsync(3))!;
        var v1 = (await Dns(id).GetConfigVersionAsync(1))!;
        Assert.Equal(v1.KnotConf, v3.KnotConf);

        // An unknown version is refused before anything is queued.
        await Assert.ThrowsAsync<NotFoundException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.RevertConfig, ServiceKinds.Dns, Spec: new DnsRevertSpec(99))));
    }

    [Fact]
    public async Task A_large_zone_is_streamed_not_sent_inline_and_listen_entries_survive_an_update()
    {
        var id = await CreateServerAsync();
        await InstallDnsAsync(id, "127.0.0.1@25353", "::1@25353");
        var zone = $"big{Guid.NewGuid():N}"[..12] + ".test";
        var records = string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"h{i} IN TXT \"{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}\""));
        await Cluster.Client.GetGrain<IZoneGrain>(zone).CreateAsync(new ZoneCreate(ZoneFile(zone, "192.0.2.1") + records + "\n"));
        await Dns(id).SetZonesAsync([zone]);
        var (_, push, args) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        var file = Assert.Single(args.Files);
        Assert.Null(file.GzipBase64);
        Assert.Equal(AgentApi.ZoneFile(zone, file.Serial), file.Url);

        // An update of the dns service without listen entries keeps the server's.
        await Server(id).CompleteCommandAsync(new CommandResult(push.CommandId, false, DateTimeOffset.UtcNow, "not applied"));
        await Jobs(id).StartJobAsync(new JobRequest(JobKinds.UpdateService, ServiceKinds.Dns, Spec: new ServiceJobSpec(Version: "3.2.7")));
        var update = await TakeOneAsync(id);
        Assert.Equal(["127.0.0.1@25353", "::1@25353"], update.Args!.Value.Deserialize(ContractsJson.Default.ServiceInstallArgs)!.Listen);
    }

    /// <summary>
    /// Posting the installed dns service again with other listen entries is a dns.apply (validated, restarted, checked and
    /// rolled back by the agent like a push) that keeps the live zones and sends no file; once the agent reports the new
    /// entries answering they are the server's and a new configuration version. The same entries again are no change;
    /// a failed change changes nothing; a new version together with new entries is refused.
    /// </summary>
    [Fact]
    public async Task A_listen_change_is_applied_like_a_push_and_makes_a_new_configuration_version()
    {
        var id = await CreateServerAsync();
        await InstallDnsAsync(id, "127.0.0.1@15353");
        var zone = await CreateZoneAsync();
        await Dns(id).SetZonesAsync([zone]);
        var (_, push, pushed) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        await AnswerAsync(id, push, pushed);
        var serial = Assert.Single(pushed.Config.Zones).Serial;

        // The same entries (in the older listen_address/port form): no listen change, the usual install command.
        await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns, Spec: new ServiceJobSpec(ListenAddress: "127.0.0.1", Port: 15353)));
        var same = await TakeOneAsync(id);
        Assert.Equal(CommandKinds.ServiceInstall, same.Kind);
        await Server(id).CompleteCommandAsync(new CommandResult(same.CommandId, true, DateTimeOffset.UtcNow,
            Output: JsonSerializer.SerializeToElement(new ServiceCommandOutput(Running(["127.0.0.1@15353"]), ["already installed"]), ContractsJson.Default.ServiceCommandOutput)));

        // New entries: a dns.apply of the next version with the live zones at their live serial, no file.
        var (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.AddService, ServiceKinds.Dns, Spec: new ServiceJobSpec(ListenAddress: "127.0.0.1", Port: 15354)));
        Assert.Equal(JobKinds.UpdateService, job.Kind);
        Assert.Equal(["127.0.0.1@15354"], args.Config.Listen);
        Assert.Equal([new DnsZoneSpec(zone, serial)], args.Config.Zones);
        Assert.Empty(args.Files);
        Assert.Equal(2, args.Version);
        Assert.Contains(job.Steps, s => s.Message.Contains("listen entries 127.0.0.1:15353 → 127.0.0.1:15354", StringComparison.Ordinal));
        await AnswerAsync(id, command, args);
        var done = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.True(done.State == JobState.Succeeded, done.Error);
        var result = JsonDocument.Parse(done.ResultJson!).RootElement;
        Assert.Equal(2, result.GetProperty("config_version").GetInt32());
        Assert.Equal("127.0.0.1@15354", result.GetProperty("listen")[0].GetString());
        Assert.Equal("127.0.0.1:15354", result.GetProperty("service").GetProperty("listen").GetString());
        Assert.Equal("127.0.0.1@15354", Assert.Single((await Dns(id).GetDnsAsync()).Listen));
        Assert.Equal("127.0.0.1@15354", Assert.Single((await Dns(id).GetConfigVersionAsync(2))!.Listen));
        Assert.Equal("127.0.0.1:15354", Assert.Single((await Server(id).GetAsync())!.Services).Listen);

        // A later push carries the new entries.
        await Cluster.Client.GetGrain<IZoneGrain>(zone).ReplaceAsync(ZoneFile(zone, "192.0.2.77"));
        (_, push, pushed) = await PushAsync(id, new JobRequest(JobKinds.PushZones, ServiceKinds.Dns));
        Assert.Equal(["127.0.0.1@15354"], pushed.Config.Listen);
        await AnswerAsync(id, push, pushed);

        // A change the agent rolls back changes nothing here.
        (job, command, args) = await PushAsync(id, new JobRequest(JobKinds.AddService, ServiceKinds.Dns, Spec: new ServiceJobSpec(Listen: ["127.0.0.1@15355"])));
        await AnswerAsync(id, command, args, success: false, rolledBack: true);
        Assert.Equal(JobState.Failed, (await Jobs(id).GetJobAsync(job.Id))!.State);
        Assert.Equal("127.0.0.1@15354", Assert.Single((await Dns(id).GetDnsAsync()).Listen));
        Assert.Equal(2, (await Dns(id).ListConfigVersionsAsync()).Length);

        // Another version and other entries at once: refused, nothing queued.
        var jobs = (await Jobs(id).ListJobsAsync()).Length;
        var both = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns, Spec: new ServiceJobSpec(Version: "3.2.7", Listen: ["127.0.0.1@15356"]))));
        Assert.Contains("one at a time", both.Message, StringComparison.Ordinal);
        Assert.Equal(jobs, (await Jobs(id).ListJobsAsync()).Length);
    }

    private static byte[] Gunzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
