using System.Diagnostics;
using System.Net;
using DnsClient;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>
/// The host's knotd (exec) with mod-stats and mod-dnstap towards the agent's reader: hit counts per name equal the
/// queries sent, name by name; frames seen equal the queries; Knot's counters move by the same amounts.
/// </summary>
public sealed class KnotDnstapTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ms-kd-").FullName;
    private Process? _knotd;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>IAsyncLifetime, not IAsyncDisposable: xunit 2 does not dispose a test class asynchronously, so knotd and the directory were left behind.</summary>
    public async Task DisposeAsync()
    {
        if (_knotd is { HasExited: false })
        {
            _knotd.Kill();
            await _knotd.WaitForExitAsync();
        }

        _knotd?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The knot.conf the agent renders (mod-stats and mod-dnstap on), for the zones of <see cref="WriteZones"/>.</summary>
    private static string Render(ServiceLayout layout, int port) => KnotConf.Render(
        new DnsConfigSpec([$"127.0.0.1@{port}"], [new DnsZoneSpec("example.com", 1), new DnsZoneSpec("example.net", 1)]),
        layout,
        [],
        dnstapAvailable: true);

    private static void WriteZones(ServiceLayout layout)
    {
        Directory.CreateDirectory(KnotConf.ZonesPath(layout));
        foreach (var zone in new[] { "example.com", "example.net" })
        {
            File.WriteAllText(KnotConf.ZoneFilePath(layout, zone), $"""
                $ORIGIN {zone}.
                $TTL 300
                @ SOA ns1 hostmaster 1 3600 600 86400 300
                @ NS ns1
                ns1 A 127.0.0.1
                www A 192.0.2.1
                mail A 192.0.2.2

                """);
        }
    }

    internal static Process StartKnotd(string config)
    {
        var info = new ProcessStartInfo(File.Exists("/usr/sbin/knotd") ? "/usr/sbin/knotd" : "knotd") { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(config);
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task Hit_counts_and_counters_match_the_queries_sent()
    {
        var port = ServiceTestHost.FreePort();
        var layout = KnotEngine.LayoutAt(_dir);
        layout.CreateDirectories();
        WriteZones(layout);
        var config = layout.ConfigFile;
        File.WriteAllText(config, Render(layout, port));
        await using var reader = DnstapServer.Start(KnotConf.DnstapSocket(layout), NullLogger.Instance);
        _knotd = StartKnotd(config);
        var dns = new LookupClient(new LookupClientOptions(new NameServer(IPAddress.Loopback, port)) { UseCache = false, Retries = 0, Timeout = TimeSpan.FromSeconds(2), ContinueOnDnsError = true });
        var stats = new KnotcStatsReader(layout.ControlSocket);
        for (var i = 0; i < 100 && !(await AnswersAsync(dns) && reader.Connections > 0); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(reader.Connections > 0, "knotd did not connect to the dnstap socket");
        // Knot's dnstap writer flushes its buffer at least every second: wait for the probes' frames to drain.
        for (var quiet = 0; quiet < 2;)
        {
            await Task.Delay(1000);
            quiet = reader.Snapshot().FramesSeen == 0 ? quiet + 1 : 0;
        }

        var before = KnotStats.Parse(await stats.ReadAsync(CancellationToken.None));

        var sent = new Dictionary<string, int> { ["www.example.com"] = 7, ["mail.example.com"] = 3, ["nx.example.com"] = 2, ["www.example.net"] = 5 };
        foreach (var (name, count) in sent)
        {
            for (var i = 0; i < count; i++)
            {
                await dns.QueryAsync(name.ToUpperInvariant(), QueryType.A);
            }
        }

        var hits = new DnsHitSnapshot();
        for (var i = 0; i < 200 && hits.FramesSeen < 17; i++)
        {
            await Task.Delay(50);
            hits.Add(reader.Snapshot());
        }

        await Task.Delay(1500); // nothing more may come
        hits.Add(reader.Snapshot());
        Assert.Equal(17, hits.FramesSeen);
        Assert.Equal(0, hits.FramesUnparsable);
        foreach (var (name, count) in sent)
        {
            Assert.Equal(count, hits.Names[name].Hits);
            Assert.InRange(hits.Names[name].LastSec, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        }

        var after = KnotStats.Parse(await stats.ReadAsync(CancellationToken.None));
        var delta = KnotStats.Delta(before.Server, after.Server);
        Assert.Equal(17, KnotStats.Responses(delta));
        Assert.Equal(2, delta["response-code[NXDOMAIN]"]);
        var zones = KnotStats.ZoneDeltas(before, after);
        Assert.Equal(12, KnotStats.Responses(zones["example.com"]));
        Assert.Equal(5, KnotStats.Responses(zones["example.net"]));

        var batch = DnsIntervalBuilder.Build("srv-1", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow, before, after, hits, [], 0);
        Assert.Equal(0, batch.FramesDropped);
        Assert.Equal(7, batch.Names.Single(n => n.Name == "www.example.com" && n.Zone == "example.com").Hits);
        Assert.Equal(5, batch.Names.Single(n => n.Name == "www.example.net" && n.Zone == "example.net").Hits);

        // A reload resets mod-stats: the counters go down, and the next delta counts from the reset.
        await RunKnotcAsync("reload");
        var reset = KnotStats.Parse(await stats.ReadAsync(CancellationToken.None));
        for (var i = 0; i < 4; i++)
        {
            await dns.QueryAsync("www.example.com", QueryType.A);
        }

        var afterReload = KnotStats.Parse(await stats.ReadAsync(CancellationToken.None));
        Assert.True(KnotStats.Responses(afterReload.Server) < KnotStats.Responses(after.Server), "reload did not reset mod-stats");
        Assert.Equal(4 + KnotStats.Responses(reset.Server), KnotStats.Responses(KnotStats.Delta(after.Server, afterReload.Server)));
    }

    /// <summary>
    /// The agent's own queries (install/start waits and diagnostics: <see cref="ServiceProbes.DnsAsync"/>; health checks
    /// after an apply and the diagnostics' zone probes: <see cref="AgentDnsProbe.QuerySoaAsync"/>) reach knotd and its
    /// dnstap like any query, and are left out of the hits; a real client's queries of the same names are counted.
    /// </summary>
    [Fact]
    public async Task The_agents_own_probes_are_not_counted_as_hits_while_real_queries_are()
    {
        var port = ServiceTestHost.FreePort();
        var layout = KnotEngine.LayoutAt(_dir);
        layout.CreateDirectories();
        WriteZones(layout);
        File.WriteAllText(layout.ConfigFile, Render(layout, port));
        await using var reader = DnstapServer.Start(KnotConf.DnstapSocket(layout), NullLogger.Instance);
        _knotd = StartKnotd(layout.ConfigFile);
        var server = new IPEndPoint(IPAddress.Loopback, port);
        for (var i = 0; i < 100 && !((await AgentDnsProbe.Shared.QuerySoaAsync(server, "example.com", TimeSpan.FromSeconds(1), CancellationToken.None)).Serial == 1 && reader.Connections > 0); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(reader.Connections > 0, "knotd did not connect to the dnstap socket");
        for (var quiet = 0; quiet < 2;)
        {
            await Task.Delay(1000);
            quiet = reader.Snapshot().FramesSeen == 0 ? quiet + 1 : 0;
        }

        // 5 root probes and 4 zone SOA probes by the agent, interleaved with 3 real SOA queries and 2 real A queries.
        var dns = new LookupClient(new LookupClientOptions(new NameServer(server)) { UseCache = false, Retries = 0, Timeout = TimeSpan.FromSeconds(2), ContinueOnDnsError = true });
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await ServiceProbes.DnsAsync(server, CancellationToken.None)).Ok);
            if (i < 4)
            {
                Assert.Equal(1, (await AgentDnsProbe.Shared.QuerySoaAsync(server, "example.com", TimeSpan.FromSeconds(2), CancellationToken.None)).Serial);
            }

            if (i < 3)
            {
                await dns.QueryAsync("example.com", QueryType.SOA);
            }

            if (i < 2)
            {
                await dns.QueryAsync("www.example.net", QueryType.A);
            }
        }

        var hits = new DnsHitSnapshot();
        for (var i = 0; i < 200 && hits.FramesSeen < 14; i++)
        {
            await Task.Delay(50);
            hits.Add(reader.Snapshot());
        }

        await Task.Delay(1500); // nothing more may come
        hits.Add(reader.Snapshot());

        // The real queries are counted exactly; the agent's probes, never (a probe that times out on a loaded machine
        // asks again: seen once in a full run, 15 frames with one more probe).
        Assert.True(hits.FramesOwn >= 9, $"{hits.FramesOwn} own frames");
        Assert.Equal(5, hits.FramesSeen - hits.FramesOwn);
        Assert.Equal(3, hits.Names["example.com"].Hits);
        Assert.Equal(2, hits.Names["www.example.net"].Hits);
        Assert.False(hits.Names.ContainsKey("."), "the agent's root probes were counted");
        Assert.Equal(2, hits.Names.Count);
    }

    /// <summary>
    /// An agent restart replaces the dnstap reader while knotd (which outlives the agent) keeps running: knotd connects to
    /// the new socket by itself, and the new reader counts again.
    /// </summary>
    [Fact]
    public async Task A_knotd_left_running_reconnects_to_the_next_agents_reader()
    {
        var port = ServiceTestHost.FreePort();
        var layout = KnotEngine.LayoutAt(_dir);
        layout.CreateDirectories();
        WriteZones(layout);
        File.WriteAllText(layout.ConfigFile, Render(layout, port));
        var first = DnstapServer.Start(KnotConf.DnstapSocket(layout), NullLogger.Instance);
        _knotd = StartKnotd(layout.ConfigFile);
        var dns = new LookupClient(new LookupClientOptions(new NameServer(IPAddress.Loopback, port)) { UseCache = false, Retries = 0, Timeout = TimeSpan.FromSeconds(2), ContinueOnDnsError = true });
        for (var i = 0; i < 100 && !(await AnswersAsync(dns) && first.Connections > 0); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(first.Connections > 0, "knotd did not connect to the first reader");
        await first.DisposeAsync(); // the agent stops

        await using var second = DnstapServer.Start(KnotConf.DnstapSocket(layout), NullLogger.Instance);
        var watch = Stopwatch.StartNew();
        var hits = new DnsHitSnapshot();
        while (watch.Elapsed < TimeSpan.FromSeconds(60) && !hits.Names.ContainsKey("www.example.com"))
        {
            await dns.QueryAsync("www.example.com", QueryType.A);
            await Task.Delay(250);
            hits.Add(second.Snapshot());
        }

        Assert.True(hits.Names.ContainsKey("www.example.com"), $"knotd did not reconnect to the new reader within 60 s ({second.Connections} connections)");
        Assert.False(_knotd.HasExited);
    }

    private static async Task<bool> AnswersAsync(LookupClient dns)
    {
        try
        {
            return !(await dns.QueryAsync("example.com", QueryType.SOA)).HasError;
        }
        catch (DnsResponseException)
        {
            return false;
        }
    }

    private async Task RunKnotcAsync(string command)
    {
        using var process = Process.Start("knotc", ["-s", KnotEngine.LayoutAt(_dir).ControlSocket, "-b", command]);
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }
}
