using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using DnsClient;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>Zone files, the applier and DNS queries for the dns.apply tests (both runtimes).</summary>
internal static class DnsApplyScenario
{
    public const string Zone = "example.test";

    public static DnsApplier Applier(ServiceTestHost host, AgentConnection? connection = null, TimeSpan? healthTimeout = null) =>
        new(host.Manager, new KnotControl(host.Manager), connection, NullLogger<DnsApplier>.Instance) { HealthTimeout = healthTimeout ?? TimeSpan.FromSeconds(10) };

    /// <summary>A zone with SOA serial <paramref name="serial"/>, NS, and www A <paramref name="www"/>, plus <paramref name="extra"/> lines.</summary>
    public static string ZoneText(string zone, long serial, string www, string extra = "") => $"""
        $ORIGIN {zone}.
        $TTL 300
        @ IN SOA ns1 hostmaster {serial} 3600 600 86400 300
        @ IN NS ns1
        ns1 IN A 192.0.2.1
        www IN A {www}
        {extra}
        """;

    public static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    public static DnsZoneFile Inline(string zone, long serial, string text) =>
        new(zone, serial, Sha256(text), Encoding.UTF8.GetByteCount(text), GzipBase64: Convert.ToBase64String(Gzip(text)));

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static DnsApplyArgs Args(int version, long serial, string www, IReadOnlyList<string>? listen = null, long? specSerial = null, string extra = "") =>
        new(version, new DnsConfigSpec(listen ?? [], [new DnsZoneSpec(Zone, specSerial ?? serial)]), [Inline(Zone, serial, ZoneText(Zone, serial, www, extra))]);

    /// <summary>The A records of <paramref name="name"/> as answered on <paramref name="endpoint"/> (empty when none or no answer).</summary>
    public static async Task<string[]> QueryAsync(IPEndPoint endpoint, string name, QueryType type = QueryType.A)
    {
        var client = new LookupClient(new LookupClientOptions(new NameServer(endpoint)) { UseCache = false, Retries = 1, Timeout = TimeSpan.FromSeconds(2), ThrowDnsErrors = false, Recursion = false });
        var response = await client.QueryAsync(name, type);
        return type == QueryType.SOA
            ? [.. response.Answers.SoaRecords().Select(s => s.Serial.ToString(System.Globalization.CultureInfo.InvariantCulture))]
            : [.. response.Answers.ARecords().Select(a => a.Address.ToString())];
    }

    /// <summary>The scenario both runtimes pass: apply, refuse a bad zone, refuse a bad config, roll back a failed health check, no-op, stopped.</summary>
    public static async Task RunAsync(ServiceTestHost host, string runtime)
    {
        var port = ServiceTestHost.FreePort();
        var installed = (await host.InstallDnsAsync(runtime, port)).Service!.Version;
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var applier = Applier(host, healthTimeout: TimeSpan.FromSeconds(3));
        var conf = Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "conf", "knot.conf");

        // v1: served.
        var v1 = await applier.ApplyAsync(Args(1, 5, "192.0.2.10"), CancellationToken.None);
        Assert.Equal(1, v1.LiveVersion);
        Assert.False(v1.RolledBack);
        Assert.Equal(5, Assert.Single(v1.Zones).Serial);
        Assert.Equal(["192.0.2.10"], await QueryAsync(endpoint, "www.example.test"));
        Assert.Equal(await File.ReadAllTextAsync(conf), v1.KnotConf);
        Assert.Contains(v1.Steps, s => s.StartsWith("health check: 1 zone(s) answer their serial", StringComparison.Ordinal));

        // An invalid zone file: refused by the checker, nothing live changes.
        var bad = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(Args(2, 6, "192.0.2.20", extra: "bad IN A 999.1.1.1"), CancellationToken.None));
        Assert.Contains("zone example.test refused by", bad.Message, StringComparison.Ordinal);
        Assert.Contains("invalid IPv4 address", bad.Message, StringComparison.Ordinal);
        Assert.False(bad.Output.RolledBack);
        Assert.Equal(1, bad.Output.LiveVersion);
        Assert.Equal(["192.0.2.10"], await QueryAsync(endpoint, "www.example.test"));
        Assert.False(Directory.Exists(Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), ConfigApplier.StagingDirectoryName)), "staging cleaned");

        // An invalid configuration: refused by the agent before Knot sees it.
        var confBefore = await File.ReadAllTextAsync(conf);
        var badConfig = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(Args(2, 6, "192.0.2.20", listen: ["127.0.0.1@99999"]), CancellationToken.None));
        Assert.Equal("configuration refused: listen entry '127.0.0.1@99999': the port after '@' must be a number between 1 and 65535", badConfig.Message);
        Assert.Equal(confBefore, await File.ReadAllTextAsync(conf));

        // A health check that fails (the spec's serial is not the file's): rolled back, the old content answers.
        var failed = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(Args(3, 6, "192.0.2.30", specSerial: 7), CancellationToken.None));
        Assert.Equal("health check failed: example.test answered serial 6, expected 7; rolled back to version 1", failed.Message);
        Assert.True(failed.Output.RolledBack);
        Assert.Equal(1, failed.Output.LiveVersion);
        Assert.Equal(["192.0.2.10"], await QueryAsync(endpoint, "www.example.test"));
        Assert.Equal(["5"], await QueryAsync(endpoint, Zone, QueryType.SOA));

        // v4 with stats/dnstap off changes knot.conf and the zone: reload, then zone-reload.
        var v4Args = Args(4, 8, "192.0.2.40") is var a ? a with { Config = a.Config with { Statistics = false, Dnstap = false } } : null!;
        var v4 = await applier.ApplyAsync(v4Args, CancellationToken.None);
        Assert.Contains(v4.Steps, s => s.StartsWith("knotc reload: configuration reloaded", StringComparison.Ordinal));
        Assert.Contains(v4.Steps, s => s.StartsWith("knotc -b zone-reload example.test: loaded", StringComparison.Ordinal));
        Assert.DoesNotContain("mod-stats", v4.KnotConf, StringComparison.Ordinal);
        Assert.Equal(["192.0.2.40"], await QueryAsync(endpoint, "www.example.test"));

        // The same version again: a no-op.
        var again = await applier.ApplyAsync(v4Args, CancellationToken.None);
        Assert.Equal("version 4 is already live (same configuration, same zone files): nothing to do", Assert.Single(again.Steps));

        // A listen change: knotd restarts on the new entry (it binds at start only), which answers; the old one does not.
        var moved = ServiceTestHost.FreePort();
        var v5 = await applier.ApplyAsync(v4Args with { Version = 5, Config = v4Args.Config with { Listen = [$"127.0.0.1@{moved}"] } }, CancellationToken.None);
        Assert.Equal([$"127.0.0.1@{moved}"], v5.Listen);
        Assert.Contains($"listening on 127.0.0.1:{moved}: every entry answers", v5.Steps);
        Assert.Equal($"127.0.0.1:{moved}", v5.Service!.Listen);
        Assert.Equal(["192.0.2.40"], await QueryAsync(new IPEndPoint(IPAddress.Loopback, moved), "www.example.test"));
        Assert.False(await ServiceTestHost.DnsAnswersAsync(port), "the old listen entry still answers");
        (port, endpoint) = (moved, new IPEndPoint(IPAddress.Loopback, moved));

        // An entry that cannot be bound (the port is taken): knotd exits, the agent says why and goes back to the
        // entry that answered, with the previous configuration.
        var busy = ServiceTestHost.FreePort();
        using (var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, busy)))
        {
            var tcp = new System.Net.Sockets.TcpListener(IPAddress.Loopback, busy);
            tcp.Start();
            try
            {
                var taken = await Assert.ThrowsAsync<DnsApplyException>(() => applier.ApplyAsync(v4Args with { Version = 6, Config = v4Args.Config with { Listen = [$"127.0.0.1@{busy}"] } }, CancellationToken.None));
                Assert.StartsWith($"the new listen entries (127.0.0.1:{busy}) do not answer: dns ", taken.Message, StringComparison.Ordinal);
                Assert.Contains("address already in use", taken.Message, StringComparison.Ordinal);
                Assert.EndsWith("rolled back to version 5", taken.Message, StringComparison.Ordinal);
                Assert.True(taken.Output.RolledBack);
                Assert.Equal($"127.0.0.1:{moved}", taken.Output.Service!.Listen);
            }
            finally
            {
                tcp.Stop();
            }
        }

        Assert.Equal(["192.0.2.40"], await QueryAsync(endpoint, "www.example.test"));
        Assert.Equal(endpoint, host.Manager.Endpoints(ServiceKinds.Dns)!.Dns);
        Assert.Contains($"127.0.0.1@{moved}", await File.ReadAllTextAsync(conf), StringComparison.Ordinal);

        // Stopped: written, validated and switched; takes effect on start.
        await host.Manager.StopAsync(ServiceKinds.Dns, CancellationToken.None);
        var stopped = await applier.ApplyAsync(Args(7, 9, "192.0.2.50"), CancellationToken.None);
        Assert.Contains("dns is not running: not reloaded, no health check; the change takes effect when it starts", stopped.Steps);
        await host.Manager.StartAsync(ServiceKinds.Dns, CancellationToken.None);
        await ServiceTestHost.EventuallyAsync(async () => (await QueryAsync(endpoint, "www.example.test")).SequenceEqual(["192.0.2.50"]), "v5 answers after start", TimeSpan.FromSeconds(15));

        // An update (re-install) keeps serving the applied zones. The version is named: "newest local image" could be the
        // bogus 9.9.9 image another test class builds at the same time.
        await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, runtime, installed, "127.0.0.1", port), CancellationToken.None);
        await host.Manager.RestartAsync(ServiceKinds.Dns, CancellationToken.None);
        await ServiceTestHost.EventuallyAsync(async () => (await QueryAsync(endpoint, "www.example.test")).SequenceEqual(["192.0.2.50"]), "v5 answers after a restart", TimeSpan.FromSeconds(15));
    }
}
