using System.Diagnostics;
using System.Globalization;

namespace ManagedServers.FleetSimulator;

/// <summary>
/// Dashboards polling per-server grains while the fleet beats: for each of four routes in turn, N concurrent clients
/// (each a loop of GETs on one shared HttpClient, as a dashboard backend would) for a fixed time; prints requests/s, p50
/// and p99 per route and each route's rate as a share of the first (an authenticated route with no grain call), so the
/// cost of the grain hop, of a metrics window and of a fleet scatter-gather read as ratios on the same machine.
/// </summary>
internal static class DashboardLoad
{
    public static async Task RunAsync(HttpClient api, IReadOnlyList<string> serverIds, int clients, TimeSpan perRoute, string prefix)
    {
        var routes = new (string Name, Func<Random, string> Path)[]
        {
            ("no grain call (/api/v1/groups)", _ => "/api/v1/groups"),
            ("one server (/api/v1/servers/{id})", r => $"/api/v1/servers/{serverIds[r.Next(serverIds.Count)]}"),
            ("last-hour metrics window (/monitoring/system/raw?server=)", r => $"/api/v1/monitoring/system/raw?server={serverIds[r.Next(serverIds.Count)]}"),
            ("fleet search page (/api/v1/servers?q=…&per_page=20)", r => $"/api/v1/servers?q={prefix}-{r.Next(Math.Max(1, serverIds.Count / 10)).ToString("D5", CultureInfo.InvariantCulture)}&per_page=20"),
        };
        Console.WriteLine($"-- dashboards: {clients} concurrent clients, {perRoute.TotalSeconds:0} s per route --");
        Console.WriteLine($"{"route",-60} {"req/s",8} {"ratio",6} {"p50 ms",7} {"p99 ms",7} {"errors",6}");
        double? baseline = null;
        foreach (var (name, path) in routes)
        {
            var (rate, p50, p99, errors) = await MeasureAsync(api, path, clients, perRoute);
            baseline ??= rate;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-60} {rate,8:F0} {rate / baseline.Value,6:F2} {p50,7:F1} {p99,7:F1} {errors,6}"));
        }
    }

    private static async Task<(double Rate, double P50, double P99, long Errors)> MeasureAsync(HttpClient api, Func<Random, string> path, int clients, TimeSpan duration)
    {
        // A short warm-up (connections, grain activations, JIT) that is not counted.
        await LoopAsync(api, path, clients, TimeSpan.FromSeconds(2), null);
        var latencies = new List<double>[clients];
        var errors = await LoopAsync(api, path, clients, duration, latencies);
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double P(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(q * all.Length))];
        return (all.Length / duration.TotalSeconds, P(0.50), P(0.99), errors);
    }

    private static async Task<long> LoopAsync(HttpClient api, Func<Random, string> path, int clients, TimeSpan duration, List<double>[]? latencies)
    {
        long errors = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var mine = new List<double>();
            if (latencies is not null)
            {
                latencies[c] = mine;
            }

            while (Stopwatch.GetTimestamp() < until)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await api.GetAsync(path(random)).ConfigureAwait(false);
                    await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        return errors;
    }
}
