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
