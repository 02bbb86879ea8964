using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ManagedServers.Agent.Dhcp;
using ManagedServers.Agent.Engines;

namespace ManagedServers.Benchmarks;

/// <summary>
/// perfdhcp leases per second against one kea-dhcp4 (exec, on loopback, perfdhcp relaying from 127.0.0.1), with DHCP
/// monitoring on and off, alternating in one run. "On" runs what the agent's DHCP collector runs per interval
/// (<c>statistic-get-all</c> and <see cref="KeaStatistics.Parse"/>) once a second, 60 times the default interval;
/// "off" runs nothing beside Kea. Each round is one perfdhcp run of 4-way exchanges (DISCOVER, OFFER, REQUEST, ACK)
/// from a fixed set of clients, as fast as Kea answers.
/// </summary>
public static partial class DhcpMonitoringBench
{
    public static async Task<int> RunAsync(int rounds, int seconds)
    {
        var dir = Directory.CreateTempSubdirectory("ms-dhcp-mon-bench-").FullName;
        var socket = Path.Combine(dir, "kea.sock");
        var port = FreeUdpPort();
        var config = Path.Combine(dir, "kea.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Dhcp4": {
                "interfaces-config": { "interfaces": [ "lo" ], "dhcp-socket-type": "udp" },
                "control-socket": { "socket-type": "unix", "socket-name": "{{socket}}" },
                "lease-database": { "type": "memfile", "persist": false },
                "valid-lifetime": 3600,
                "subnet4": [ { "id": 1, "subnet": "127.0.0.0/8", "pools": [ { "pool": "127.0.1.0 - 127.0.255.255" } ] } ] } }
            """);
        var start = new ProcessStartInfo("kea-dhcp4", ["-c", config, "-p", port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KEA_PIDFILE_DIR"] = dir;
        start.Environment["KEA_LOCKFILE_DIR"] = dir;
        using var kea = Process.Start(start)!;
        _ = kea.StandardOutput.ReadToEndAsync();
        _ = kea.StandardError.ReadToEndAsync();
        try
        {
            for (var i = 0; i < 100 && !File.Exists(socket); i++)
            {
                await Task.Delay(50);
            }

            Console.WriteLine($"kea-dhcp4 on lo port {port}; {rounds} rounds of {seconds} s, monitoring on (statistic-get-all every second) and off alternating");
            // A warm-up round (not counted): the clients' first leases are allocations, later rounds renew them.
            Console.WriteLine($"warm-up:   {await PerfdhcpAsync(port, seconds),10:N0} leases/s (not counted)");
            var on = new List<double>();
            var off = new List<double>();
            long reads = 0;
            for (var round = 0; round < rounds; round++)
            {
                var monitoring = round % 4 is 1 or 2; // off, on, on, off, …: neither mode always goes first
                using var stop = new CancellationTokenSource();
                var collector = monitoring ? Task.Run(() => CollectAsync(socket, () => Interlocked.Increment(ref reads), stop.Token)) : Task.CompletedTask;
                var rate = await PerfdhcpAsync(port, seconds);
                await stop.CancelAsync();
                await collector;
                (monitoring ? on : off).Add(rate);
                Console.WriteLine($"round {round + 1,2}: monitoring {(monitoring ? "on " : "off")} {rate,10:N0} leases/s");
            }

            var ratio = Median(on) / Median(off);
            Console.WriteLine($"median on {Median(on):N0} leases/s, off {Median(off):N0} leases/s, ratio on/off {ratio:0.000} (target ≥ 0.95); {reads} statistic reads");
            return 0;
        }
        finally
        {
            kea.Kill();
            await kea.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task CollectAsync(string socket, Action read, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var answer = await KeaControl.SendAsync(socket, "statistic-get-all", null, TimeSpan.FromSeconds(10), CancellationToken.None);
            _ = KeaStatistics.Parse(answer.Arguments, 4);
            read();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<double> PerfdhcpAsync(int port, int seconds)
    {
        var perf = Process.Start(new ProcessStartInfo("/usr/sbin/perfdhcp",
            ["-4", "-N", port.ToString(CultureInfo.InvariantCulture), "-L", "67", "-l", "127.0.0.1", "-R", "20000", "-p", seconds.ToString(CultureInfo.InvariantCulture), "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = perf.StandardOutput.ReadToEndAsync();
        var errors = perf.StandardError.ReadToEndAsync();
        await perf.WaitForExitAsync();
        var text = await output + await errors;
        var match = RatePattern().Match(text);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("perfdhcp printed no rate:\n" + text);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreeUdpPort()
    {
        using var socket = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"Rate: ([0-9.]+) 4-way exchanges/second")]
    private static partial Regex RatePattern();
}
