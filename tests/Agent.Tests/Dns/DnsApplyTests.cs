using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Xunit.Abstractions;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>dns.apply against real knotd: the host's (exec) and the image's (docker).</summary>
public sealed class DnsApplyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Apply_refuse_roll_back_and_no_op_through_exec()
    {
        await using var host = new ServiceTestHost();
        await DnsApplyScenario.RunAsync(host, RuntimeNames.Exec);
    }

    [Fact]
    public async Task Apply_refuse_roll_back_and_no_op_through_docker()
    {
        await using var host = new ServiceTestHost();
        await DnsApplyScenario.RunAsync(host, RuntimeNames.Docker);
    }

    [Fact]
    public async Task Without_a_dns_service_the_command_fails_clearly()
    {
        await using var host = new ServiceTestHost();
        var handler = new DnsApplyCommandHandler(DnsApplyScenario.Applier(host), TimeProvider.System);
        var args = System.Text.Json.JsonSerializer.SerializeToElement(DnsApplyScenario.Args(1, 5, "192.0.2.10"), ContractsJson.Default.DnsApplyArgs);

        var result = await handler.ExecuteAsync(new AgentCommand("d-1", CommandKinds.DnsApply, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), args), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Equal("no dns service is installed on this server (install it with service.install first)", result.Error);
        var applyOutput = System.Text.Json.JsonSerializer.Deserialize(result.Output!.Value, ContractsJson.Default.DnsApplyOutput)!;
        Assert.Equal(0, applyOutput.LiveVersion);
    }

    [Fact]
    public async Task Zones_from_the_control_plane_and_the_listen_list()
    {
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        using var connection = new AgentConnection(new Uri(plane.AgentUrl), CaTrust.FromPem(ca.Pem, "ca.pem"), ca.IssueLeaf("agent", "1.3.6.1.5.5.7.3.2"), TimeProvider.System);
        await using var host = new ServiceTestHost();
        var (p1, p2) = (ServiceTestHost.FreePort(), ServiceTestHost.FreePort());
        var installed = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, Listen: [$"127.0.0.1@{p1}", $"::1@{p2}"]), CancellationToken.None);
        Assert.Equal($"127.0.0.1:{p1}, [::1]:{p2}", installed.Service!.Listen);
        var bad = await Assert.ThrowsAsync<ManagedServers.Agent.Services.ServiceCommandException>(() => host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, Listen: ["localhost@53"]), CancellationToken.None));
        Assert.Equal("listen entry 'localhost@53' is not an address or address@port (e.g. 127.0.0.1@15353, ::1@53)", bad.Message);

        var text = DnsApplyScenario.ZoneText(DnsApplyScenario.Zone, 11, "192.0.2.11");
        plane.ZoneFiles[(DnsApplyScenario.Zone, 11)] = DnsApplyScenario.Gzip(text);
        var file = new DnsZoneFile(DnsApplyScenario.Zone, 11, DnsApplyScenario.Sha256(text), Encoding.UTF8.GetByteCount(text), Url: AgentApi.ZoneFile(DnsApplyScenario.Zone, 11));
        var applier = DnsApplyScenario.Applier(host, connection);

        var applied = await applier.ApplyAsync(new DnsApplyArgs(1, new DnsConfigSpec([], [new DnsZoneSpec(DnsApplyScenario.Zone, 11)]), [file]), CancellationToken.None);

        Assert.Contains(applied.Steps, s => s.Contains("from the control plane", StringComparison.Ordinal));
        Assert.Equal(["192.0.2.11"], await DnsApplyScenario.QueryAsync(new IPEndPoint(IPAddress.Loopback, p1), "www.example.test"));
        Assert.Equal(["192.0.2.11"], await DnsApplyScenario.QueryAsync(new IPEndPoint(IPAddress.IPv6Loopback, p2), "www.example.test"));

        // The zone moved on since the push: 410 names it.
        var stale = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(new DnsApplyArgs(2, new DnsConfigSpec([], [new DnsZoneSpec(DnsApplyScenario.Zone, 12)]), [file with { Serial = 12, Sha256 = new string('0', 64), Url = AgentApi.ZoneFile(DnsApplyScenario.Zone, 12) }]), CancellationToken.None));
        Assert.StartsWith("zone example.test: zone changed since the push was made; push again (410", stale.Message, StringComparison.Ordinal);

        // A spec listen list replaces the install's: the probe follows its first entry.
        var p3 = ServiceTestHost.FreePort();
        await applier.ApplyAsync(new DnsApplyArgs(3, new DnsConfigSpec([$"127.0.0.1@{p3}"], [new DnsZoneSpec(DnsApplyScenario.Zone, 11)]), [file]), CancellationToken.None);
        Assert.Equal(["192.0.2.11"], await DnsApplyScenario.QueryAsync(new IPEndPoint(IPAddress.Loopback, p3), "www.example.test"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, p3), host.Manager.Endpoints(ServiceKinds.Dns)!.Dns);

        // Removed, then installed again with other entries: the install's entries are where it listens (the applied
        // zones are served again), not those of the last apply.
        await host.Manager.RemoveAsync(ServiceKinds.Dns, CancellationToken.None);
        var p4 = ServiceTestHost.FreePort();
        var again = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, Listen: [$"127.0.0.1@{p4}"]), CancellationToken.None);
        Assert.Equal($"127.0.0.1:{p4}", again.Service!.Listen);
        Assert.Equal(["192.0.2.11"], await DnsApplyScenario.QueryAsync(new IPEndPoint(IPAddress.Loopback, p4), "www.example.test"));
        Assert.False(await ServiceTestHost.DnsAnswersAsync(p3), "it still listens where the last apply said");
    }

    /// <summary>
    /// A push of several zones applies the ones knotd loads and reports the others by name with knotd's reason: a refused
    /// zone that was live keeps its serial, a refused new zone stays out of knot.conf; what only Knot's optional checks
    /// report (missing glue) is a warning and applies. All or nothing (<see cref="DnsApplyArgs.Atomic"/>) refuses it all.
    /// The root zone and an RFC 2317 zone are served like any other.
    /// </summary>
    [Fact]
    public async Task A_refused_zone_is_named_and_the_valid_ones_apply_unless_all_or_nothing()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        await host.InstallDnsAsync(RuntimeNames.Exec, port);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var applier = DnsApplyScenario.Applier(host, healthTimeout: TimeSpan.FromSeconds(5));
        const string classless = "0/25.2.0.192.in-addr.arpa";
        string Zone(string zone, long serial, string extra = "") => DnsApplyScenario.ZoneText(zone, serial, "192.0.2.10", extra);
        DnsApplyArgs Push(int version, params (string Zone, long Serial, string Text)[] zones) =>
            new(version, new DnsConfigSpec([], [.. zones.Select(z => new DnsZoneSpec(z.Zone, z.Serial))]), [.. zones.Select(z => DnsApplyScenario.Inline(z.Zone, z.Serial, z.Text))]);

        var v1 = await applier.ApplyAsync(Push(1, ("a.test", 1, Zone("a.test", 1)), ("b.test", 1, Zone("b.test", 1))), CancellationToken.None);
        Assert.Null(v1.Refused);

        // b.test and c.test (new) do not load in knotd; d.test lacks glue, which only the optional checks report.
        var push = Push(
            2,
            ("a.test", 2, Zone("a.test", 2)),
            ("b.test", 2, Zone("b.test", 2, "bad IN A 999.1.1.1")),
            ("c.test", 1, Zone("c.test", 1, "www IN CNAME x.test.")),
            ("d.test", 1, Zone("d.test", 1, "@ IN NS ns2")),
            (".", 1, "$ORIGIN .\n$TTL 300\n@ IN SOA a.root-servers.net. hm. 1 3600 600 86400 300\n@ IN NS a.root-servers.net.\na.root-servers.net. IN A 198.41.0.4\n"),
            (classless, 1, $"$ORIGIN {classless}.\n$TTL 300\n@ IN SOA ns1.example. hm.example. 1 3600 600 86400 300\n@ IN NS ns1.example.\n1 IN PTR host.example.\n"));

        var atomic = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(push with { Atomic = true }, CancellationToken.None));
        Assert.StartsWith("zone b.test refused by knotd's load check: ", atomic.Message, StringComparison.Ordinal);
        Assert.EndsWith("(all or nothing: no zone applied)", atomic.Message, StringComparison.Ordinal);
        Assert.Equal(["b.test", "c.test"], atomic.Output.Refused!.Select(r => r.Zone));
        Assert.Equal(["1"], await DnsApplyScenario.QueryAsync(endpoint, "a.test", DnsClient.QueryType.SOA));

        var v2 = await applier.ApplyAsync(push, CancellationToken.None);
        Assert.Equal(["b.test", "c.test"], v2.Refused!.Select(r => r.Zone));
        Assert.Contains("line 7 (invalid IPv4 address)", v2.Refused![0].Reason, StringComparison.Ordinal);
        Assert.Contains("another record exists beside CNAME", v2.Refused![1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(".staging", v2.Refused![0].Reason, StringComparison.Ordinal);
        Assert.Contains(v2.Steps, s => s.StartsWith("kzonecheck b.test: refused, knotd would not load it: ", StringComparison.Ordinal));
        Assert.Equal(["d.test: [d.test.] missing glue record"], v2.Warnings);
        Assert.Equal(["2"], await DnsApplyScenario.QueryAsync(endpoint, "a.test", DnsClient.QueryType.SOA));
        Assert.Equal(["1"], await DnsApplyScenario.QueryAsync(endpoint, "b.test", DnsClient.QueryType.SOA)); // still live as it was
        Assert.Empty(await DnsApplyScenario.QueryAsync(endpoint, "c.test", DnsClient.QueryType.SOA)); // never served
        Assert.DoesNotContain("c.test", v2.KnotConf, StringComparison.Ordinal);
        Assert.Equal(["1"], await DnsApplyScenario.QueryAsync(endpoint, "d.test", DnsClient.QueryType.SOA));
        Assert.Equal(["1"], await DnsApplyScenario.QueryAsync(endpoint, ".", DnsClient.QueryType.SOA));
        Assert.Equal(["1"], await DnsApplyScenario.QueryAsync(endpoint, classless, DnsClient.QueryType.SOA));
        Assert.Equal([("a.test", 2L), ("b.test", 1L), ("d.test", 1L), (".", 1L), (classless, 1L)], v2.Zones.Select(z => (z.Zone, z.Serial ?? -1)));
        Assert.True(File.Exists(Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "data", "zones", "0@25.2.0.192.in-addr.arpa.zone")));
    }

    /// <summary>Not a timed assertion: set MS_DNS_BENCH=1 to apply a 1,000,000-record zone on exec and print each step's time.</summary>
    [Fact]
    public async Task Bench_a_million_record_zone_on_exec()
    {
        if (Environment.GetEnvironmentVariable("MS_DNS_BENCH") != "1")
        {
            return;
        }

        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        await host.InstallDnsAsync(RuntimeNames.Exec, port);
        var applier = DnsApplyScenario.Applier(host, healthTimeout: TimeSpan.FromSeconds(120));
        foreach (var (version, serial) in new[] { (1, 1L), (2, 2L) })
        {
            var text = new StringBuilder(DnsApplyScenario.ZoneText(DnsApplyScenario.Zone, serial, "192.0.2.10"));
            for (var i = 0; i < 1_000_000; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"h{i} IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{(i + (int)serial) & 255}\n");
            }

            var zone = text.ToString();
            var file = DnsApplyScenario.Inline(DnsApplyScenario.Zone, serial, zone);
            output.WriteLine($"zone text {zone.Length / 1e6:0.0} MB, gzip base64 {file.GzipBase64!.Length / 1e6:0.0} MB");
            var watch = Stopwatch.StartNew();
            var applied = await applier.ApplyAsync(new DnsApplyArgs(version, new DnsConfigSpec([], [new DnsZoneSpec(DnsApplyScenario.Zone, serial)]), [file]), CancellationToken.None);
            output.WriteLine($"version {version}: {watch.ElapsedMilliseconds} ms");
            foreach (var step in applied.Steps)
            {
                output.WriteLine("  " + step);
            }
        }
    }
}
