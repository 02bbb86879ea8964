using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Benchmarks;

/// <summary>
/// <c>bench -- dns [rounds] [seconds]</c>: what DNS monitoring costs the DNS hot path. The host's knotd on a loopback
/// port serves one zone; dnsperf sends the same query file as fast as it can, alternately against knotd WITHOUT
/// monitoring (no mod-stats, no mod-dnstap) and WITH it (mod-stats server-wide and per zone, mod-dnstap logging
/// responses to the agent's <see cref="DnstapServer"/>, which counts names). Prints each round's QPS, the means,
/// their ratio (target ≥ 0.95) and, with monitoring, dnstap frames received against responses counted by mod-stats.
/// </summary>
internal static partial class DnsMonitoringBench
{
    public static async Task<int> RunAsync(int rounds, int seconds)
    {
        var dir = Directory.CreateTempSubdirectory("ms-bench-dns-").FullName;
        try
        {
            var queries = WriteZoneAndQueries(dir);
            var without = new List<double>();
            var with = new List<double>();
            long frames = 0, responses = 0;
            Console.WriteLine($"dnsperf -l {seconds} against knotd {Version()} on 127.0.0.1, {Environment.ProcessorCount} CPUs, {queries} query names; {rounds} rounds, alternating");
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var monitoring in new[] { false, true })
                {
                    var result = await RoundAsync(dir, monitoring, seconds);
                    (monitoring ? with : without).Add(result.Qps);
                    frames += result.Frames;
                    responses += result.Responses;
                    Console.WriteLine(monitoring
                        ? $"round {round} WITH monitoring:    {result.Qps,10:F0} qps  (dnstap frames {result.Frames}, mod-stats responses {result.Responses}, dropped {Math.Max(0, result.Responses - result.Frames)}, distinct names {result.Names})"
                        : $"round {round} WITHOUT monitoring: {result.Qps,10:F0} qps");
                }
            }

            var ratio = with.Average() / without.Average();
            Console.WriteLine($"mean WITHOUT {without.Average():F0} qps, WITH {with.Average():F0} qps, ratio {ratio:F3} (target >= 0.95)");
            Console.WriteLine($"frames seen {frames} of {responses} responses: {(responses == 0 ? 0 : 100.0 * Math.Max(0, responses - frames) / responses):F2} % dropped by Knot");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed record Round(double Qps, long Frames, long Responses, int Names);

    private static async Task<Round> RoundAsync(string dir, bool monitoring, int seconds)
    {
        var layout = KnotEngine.LayoutAt(dir);
        foreach (var stale in new[] { layout.RunDirectory, Path.Combine(layout.DataDirectory, "timers"), Path.Combine(layout.DataDirectory, "journal") })
        {
            if (Directory.Exists(stale))
            {
                Directory.Delete(stale, true);
            }
        }

        layout.CreateDirectories();
        var port = FreePort();
        var config = layout.ConfigFile;
        File.WriteAllText(config, Config(layout, port, monitoring));
        await using var reader = monitoring ? DnstapServer.Start(KnotConf.DnstapSocket(layout), NullLogger.Instance) : null;
        using var knotd = Process.Start(new ProcessStartInfo(File.Exists("/usr/sbin/knotd") ? "/usr/sbin/knotd" : "knotd", ["-c", config]) { RedirectStandardError = true })!;
        knotd.ErrorDataReceived += (_, _) => { };
        knotd.BeginErrorReadLine();
        try
        {
            var stats = new KnotcStatsReader(layout.ControlSocket);
            for (var i = 0; i < 100 && !await AnswersAsync(port); i++)
            {
                await Task.Delay(100);
            }

            for (var i = 0; monitoring && i < 100 && reader!.Connections == 0; i++)
            {
                await Task.Delay(100);
            }

            await Task.Delay(1500);
            reader?.Snapshot();
            var before = monitoring ? KnotStats.Parse(await stats.ReadAsync(CancellationToken.None)) : null;
            var qps = await DnsperfAsync(Path.Combine(dir, "queries.txt"), port, seconds);
            if (!monitoring)
            {
                return new Round(qps, 0, 0, 0);
            }

            await Task.Delay(2000); // Knot's dnstap writer flushes at least every second
            var hits = reader!.Snapshot();
            var after = KnotStats.Parse(await stats.ReadAsync(CancellationToken.None));
            return new Round(qps, hits.FramesSeen, KnotStats.Responses(KnotStats.Delta(before!.Server, after.Server)), hits.Names.Count);
        }
        finally
        {
            knotd.Kill();
            await knotd.WaitForExitAsync();
        }
    }

    private static async Task<double> DnsperfAsync(string queries, int port, int seconds)
    {
        var info = new ProcessStartInfo("dnsperf", ["-s", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-d", queries, "-l", seconds.ToString(CultureInfo.InvariantCulture), "-c", "4", "-q", "500"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var match = QpsPattern().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("dnsperf printed no QPS:\n" + output);
    }

    [GeneratedRegex(@"Queries per second:\s+([0-9.]+)")]
    private static partial Regex QpsPattern();

    private static int WriteZoneAndQueries(string dir)
    {
        var zone = new StringBuilder("$ORIGIN bench.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n");
        var names = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            zone.Append(CultureInfo.InvariantCulture, $"host{i} A 192.0.2.{i % 250 + 1}\n");
            names.Add($"host{i}.bench.test A");
        }

        for (var i = 0; i < 100; i++)
        {
            names.Add($"missing{i}.bench.test A"); // NXDOMAIN
        }

        var layout = KnotEngine.LayoutAt(dir);
        layout.CreateDirectories();
        Directory.CreateDirectory(KnotConf.ZonesPath(layout));
        File.WriteAllText(KnotConf.ZoneFilePath(layout, "bench.test"), zone.ToString());
        File.WriteAllLines(Path.Combine(dir, "queries.txt"), names);
        return names.Count;
    }

    /// <summary>The knot.conf the agent renders: WITH loads mod-stats and mod-dnstap, WITHOUT loads neither.</summary>
    private static string Config(ServiceLayout layout, int port, bool monitoring) => KnotConf.Render(
        new DnsConfigSpec([$"127.0.0.1@{port}"], [new DnsZoneSpec("bench.test", 1)], Statistics: monitoring, Dnstap: monitoring),
        layout,
        [],
        dnstapAvailable: true);

    private static async Task<bool> AnswersAsync(int port)
    {
        using var udp = new UdpClient();
        byte[] query = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, (byte)'b', (byte)'e', (byte)'n', (byte)'c', (byte)'h', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0, 0, 6, 0, 1];
        await udp.SendAsync(query, new IPEndPoint(IPAddress.Loopback, port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            var answer = await udp.ReceiveAsync(timeout.Token);
            return (answer.Buffer[3] & 0x0F) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var tcp = new TcpListener(IPAddress.Loopback, 0);
        tcp.Start();
        return ((IPEndPoint)tcp.LocalEndpoint).Port;
    }

    private static string Version()
    {
        using var process = Process.Start(new ProcessStartInfo("knotd", ["--version"]) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return text.Split(' ')[^1];
    }
}
