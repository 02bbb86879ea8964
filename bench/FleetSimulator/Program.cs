using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;
using ManagedServers.Contracts.Security;
using ManagedServers.FleetSimulator;

// Fleet simulator: N simulated agents, each a real HTTPS + mTLS client with its own key and
// certificate from the control plane, heartbeating at a (compressed) interval. Prints sustained
// heartbeats/s, latency percentiles and the silo's CPU and memory; then times server listings.
//
//   dotnet run -c Release --project bench/FleetSimulator -- --url http://127.0.0.1:8080 \
//       --password ADMIN_PASSWORD --agents 1000 --interval 5 --duration 60 --silo-pid PID
// DNS push mode (bench/dns-push.sh): real agent processes with knotd; a large zone imported and pushed, then a
// one-record change pushed to every server: ... --dns-push --servers 20 --records 1000000 --rounds 10 --agent-dll PATH
// AMQP mode (agents publish to RabbitMQ; the silos run with RabbitMq:* set):
//       ... --amqp amqp://user:pass@127.0.0.1:5672/vhost --partitions 8 --silo-pids PID1,PID2
// Web UI (--ui): N servers, then page timings in headless chromium (median and p95 of 20 runs) and the silo's CPU with
// browser sessions open on live pages: ... --ui --agents 10000 --runs 20 --sessions 50 --sessions-seconds 300 --silo-pid PID
// Dashboards (--dashboard CLIENTS): during each phase's measured window, CLIENTS concurrent readers poll four routes in
// turn (duration / 4 each) while the fleet beats: ... --agents 2000 --interval 5 --duration 120 --dashboard 16
var options = Options.Parse(args);
var wire = ContractsJson.WireOptions;
using var api = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(2) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(api, options.Password));

if (args.Contains("--dns-push"))
{
    string Arg(string name, string fallback) => Array.IndexOf(args, "--" + name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    await DnsPushBench.RunAsync(
        api,
        Arg("agent-dll", "Agent/bin/Release/net10.0/ManagedServers.Agent.dll"),
        int.Parse(Arg("servers", "20"), CultureInfo.InvariantCulture),
        int.Parse(Arg("records", "1000000"), CultureInfo.InvariantCulture),
        int.Parse(Arg("rounds", "10"), CultureInfo.InvariantCulture),
        options.Prefix);
    return;
}

if (args.Contains("--ui"))
{
    await UiBench.RunAsync(api, options, args);
    return;
}

if (options.Amqp is not null)
{
    await AmqpFleet.RunAsync(api, options);
    return;
}

Console.WriteLine($"fleet simulator: {options.Agents} agents, intervals {string.Join(", ", options.Intervals)} s, {options.Duration} s measured, prefix '{options.Prefix}'");
var enrolled = new ConcurrentBag<SimAgent>();
var setupClock = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, options.Agents), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
{
    var name = $"{options.Prefix}-{i:D6}";
    using var created = await api.PostAsJsonAsync("/api/v1/servers", new CreateServerRequest(name, "dns", "127.0.0.1"), wire, ct);
    var server = (await created.Content.ReadFromJsonAsync<ServerView>(wire, ct))!;
    var bundle = (await api.GetFromJsonAsync<SetupBundle>($"/api/v1/servers/{server.Id}/setup-bundle", wire, ct))!;
    enrolled.Add(await SimAgent.EnrollAsync(bundle, ct));
});
Console.WriteLine($"created and enrolled {enrolled.Count} agents in {setupClock.Elapsed.TotalSeconds:F1} s");

var agents = enrolled.ToArray();
foreach (var interval in options.Intervals)
{
    await RunPhaseAsync(api, agents, interval, options);
}

// Listing: a page of 20 with a search term, over the whole fleet.
var listLatencies = new List<double>();
for (var i = 0; i < 300; i++)
{
    var term = $"{options.Prefix}-{Random.Shared.Next(options.Agents / 10):D5}";
    var started = Stopwatch.GetTimestamp();
    using var response = await api.GetAsync($"/api/v1/servers?q={term}&per_page=20");
    response.EnsureSuccessStatusCode();
    await response.Content.ReadAsByteArrayAsync();
    listLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
}

listLatencies.Sort();
Console.WriteLine($"list (search, page of 20, fleet of {options.Agents}+): p50 {listLatencies[150]:F1} ms  p99 {listLatencies[296]:F1} ms");

foreach (var agent in agents)
{
    agent.Dispose();
}

static async Task RunPhaseAsync(HttpClient api, SimAgent[] agents, int interval, Options options)
{
    var latencies = new ConcurrentQueue<double>();
    long sent = 0, failed = 0;
    using var stop = new CancellationTokenSource();
    var warmup = TimeSpan.FromSeconds(Math.Min(interval * 2, 120)); // every agent has connected and beaten at least once
    var measuring = false;
    var cpuBefore = ProcessStats.CpuSeconds(options.SiloPid);
    var wall = Stopwatch.StartNew();
    var loops = agents.Select((agent, index) => Task.Run(async () =>
    {
        // Spread the first beats over one interval, as a real fleet does.
        await Task.Delay(TimeSpan.FromSeconds(interval * index / (double)agents.Length), stop.Token).ConfigureAwait(false);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(interval));
        do
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = options.Samples
                    ? await agent.SampleAsync(stop.Token).ConfigureAwait(false)
                    : await agent.BeatAsync(stop.Token).ConfigureAwait(false);
                if (measuring)
                {
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref sent);
                        latencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException)
            {
                if (measuring)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false));
    })).ToArray();

    await Task.Delay(warmup);
    measuring = true;
    var measureStart = Stopwatch.GetTimestamp();
    cpuBefore = ProcessStats.CpuSeconds(options.SiloPid);
    long peakRss = 0;
    var dashboards = options.Dashboard > 0
        ? DashboardLoad.RunAsync(api, agents.Select(a => a.ServerId).ToArray(), options.Dashboard, TimeSpan.FromSeconds(options.Duration / 4.0 - 2), options.Prefix)
        : Task.CompletedTask;
    for (var s = 0; s < options.Duration; s++)
    {
        await Task.Delay(1000);
        peakRss = Math.Max(peakRss, ProcessStats.Rss(options.SiloPid));
    }

    await dashboards;

    measuring = false;
    var seconds = Stopwatch.GetElapsedTime(measureStart).TotalSeconds;
    var cpuAfter = ProcessStats.CpuSeconds(options.SiloPid);
    await stop.CancelAsync();
    try
    {
        await Task.WhenAll(loops);
    }
    catch (OperationCanceledException)
    {
    }

    var sorted = latencies.ToArray();
    Array.Sort(sorted);
    double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
    Console.WriteLine($"-- {agents.Length} agents every {interval} s --");
    Console.WriteLine($"{(options.Samples ? "sample batches (1 sample, ~45 metrics; 200 = stored and queryable)" : "heartbeats")}: {sent} ok, {failed} failed in {seconds:F1} s → {sent / seconds:F0}/s (offered {agents.Length / (double)interval:F0}/s)");
    Console.WriteLine($"latency ms: p50 {P(0.50):F1}  p90 {P(0.90):F1}  p99 {P(0.99):F1}  max {(sorted.Length > 0 ? sorted[^1] : double.NaN):F1}");
    if (options.SiloPid > 0)
    {
        Console.WriteLine($"silo: CPU {(cpuAfter - cpuBefore) / seconds * 100:F0} % of one core (2 cores = 200 %), peak RSS {peakRss / 1024 / 1024} MiB");
    }
}

static async Task<string> TokenAsync(HttpClient api, string password)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens") { Content = JsonContent.Create(new CreateTokenRequest("fleet-simulator"), options: ContractsJson.WireOptions) };
    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));
    using var response = await api.SendAsync(request);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<CreatedToken>(ContractsJson.WireOptions))!.Token;
}

internal sealed record Options(string Url, string Password, int Agents, int[] Intervals, int Duration, int SiloPid, string Prefix, string? Amqp, int Partitions, int[] SiloPids, bool Samples = false, int Dashboard = 0)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new Options(
            Get("url", "http://127.0.0.1:8080"),
            Get("password", Environment.GetEnvironmentVariable("MANAGEDSERVERS_ADMIN_PASSWORD") ?? string.Empty),
            int.Parse(Get("agents", "1000"), CultureInfo.InvariantCulture),
            Get("interval", "5").Split(',').Select(i => int.Parse(i, CultureInfo.InvariantCulture)).ToArray(),
            int.Parse(Get("duration", "60"), CultureInfo.InvariantCulture),
            int.Parse(Get("silo-pid", "0"), CultureInfo.InvariantCulture),
            Get("prefix", "sim" + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture)),
            Get("amqp", string.Empty) is { Length: > 0 } amqp ? amqp : null,
            int.Parse(Get("partitions", "8"), CultureInfo.InvariantCulture),
            Get("silo-pids", Get("silo-pid", string.Empty)).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(),
            args.Contains("--samples"),
            int.Parse(Get("dashboard", "0"), CultureInfo.InvariantCulture));
    }
}

/// <summary>One simulated agent: its own key, certificate and TLS connection.</summary>
internal sealed class SimAgent : IDisposable
{
    private readonly HttpClient _client;
    private readonly string _serverId;

    public string ServerId => _serverId;
    private readonly Guid _boot = Guid.NewGuid();
    private long _sequence;

    private SimAgent(HttpClient client, string serverId)
    {
        _client = client;
        _serverId = serverId;
    }

    public static async Task<SimAgent> EnrollAsync(SetupBundle bundle, CancellationToken ct)
    {
        var ca = X509Certificate2.CreateFromPem(bundle.CaCertificatePem);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={bundle.ServerId}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var anonymous = new HttpClient(Handler(ca, null)) { BaseAddress = new Uri(bundle.AgentUrl) };
        using var response = await anonymous.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest(bundle.ServerId, bundle.EnrollmentToken, csr, "sim", "sim", "sim"), ContractsJson.WireOptions, ct);
        response.EnsureSuccessStatusCode();
        var issued = (await response.Content.ReadFromJsonAsync<CertificateResponse>(ContractsJson.WireOptions, ct))!;
        var certificate = CaChain.WithKey(issued.CertificatePem, key.ExportPkcs8PrivateKeyPem());
        return new SimAgent(new HttpClient(Handler(ca, certificate)) { BaseAddress = new Uri(bundle.AgentUrl), Timeout = TimeSpan.FromSeconds(30) }, bundle.ServerId);
    }

    public Task<HttpResponseMessage> BeatAsync(CancellationToken ct) =>
        _client.PostAsJsonAsync(
            AgentApi.Heartbeat,
            new Heartbeat(_serverId, Guid.NewGuid(), _boot, Interlocked.Increment(ref _sequence), DateTimeOffset.UtcNow, "sim", 1, "sim", "sim"),
            ContractsJson.WireOptions,
            ct);

    /// <summary>One system sample shaped like a real agent's (about 45 metrics), as a batch of one.</summary>
    public Task<HttpResponseMessage> SampleAsync(CancellationToken ct) => SamplesAsync([SyntheticSample()], ct);

    /// <summary>Several samples as one batch (a backlog: the UI benchmark's hour of history).</summary>
    public Task<HttpResponseMessage> SamplesAsync(IReadOnlyList<SystemSample> samples, CancellationToken ct) =>
        _client.PostAsJsonAsync(AgentApi.Metrics, new MetricsBatch(_serverId, Guid.NewGuid(), samples), ContractsJson.WireOptions, ct);

    internal static SystemSample SyntheticSample(DateTimeOffset? at = null)
    {
        var r = Random.Shared;
        var values = new Dictionary<string, double>
        {
            [SystemMetricNames.CpuCount] = 2,
            [SystemMetricNames.Load1] = Math.Round(r.NextDouble() * 2, 2),
            [SystemMetricNames.Load5] = Math.Round(r.NextDouble() * 2, 2),
            [SystemMetricNames.Load15] = Math.Round(r.NextDouble() * 2, 2),
            [SystemMetricNames.CpuUsage] = Math.Round(r.NextDouble() * 100, 2),
            [SystemMetricNames.CpuUser] = Math.Round(r.NextDouble() * 50, 2),
            [SystemMetricNames.CpuSystem] = Math.Round(r.NextDouble() * 20, 2),
            [SystemMetricNames.CpuIowait] = Math.Round(r.NextDouble() * 5, 2),
            [SystemMetricNames.MemoryTotal] = 25_000_000_000,
            [SystemMetricNames.MemoryAvailable] = 20_000_000_000 + r.Next(1_000_000),
            [SystemMetricNames.MemoryUsed] = 5_000_000_000 + r.Next(1_000_000),
            [SystemMetricNames.MemoryUsedPercent] = Math.Round(20 + r.NextDouble(), 2),
            [SystemMetricNames.MemoryBuffers] = 100_000_000,
            [SystemMetricNames.MemoryCached] = 3_000_000_000,
            [SystemMetricNames.SwapTotal] = 0,
            [SystemMetricNames.SwapUsed] = 0,
            [SystemMetricNames.SwapUsedPercent] = 0,
            [SystemMetricNames.VmCommitted] = 9_000_000_000,
            [SystemMetricNames.VmCommitLimit] = 12_500_000_000,
            [SystemMetricNames.VmCommittedPercent] = 72,
            [SystemMetricNames.Uptime] = 100_000 + r.Next(1000),
            [SystemMetricNames.TcpTotal] = 40 + r.Next(10),
            [SystemMetricNames.UdpSockets] = 8,
            [SystemMetricNames.Listening] = 12,
            [SystemMetricNames.SocketsUsed] = 200,
        };
        foreach (var state in SystemMetricNames.TcpStates)
        {
            values[SystemMetricNames.TcpPrefix + state] = r.Next(20);
        }

        foreach (var mount in new[] { "/", "/var" })
        {
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskTotal, mount)] = 100_000_000_000;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskUsed, mount)] = 40_000_000_000 + r.Next(1000);
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskFree, mount)] = 60_000_000_000 - r.Next(1000);
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskUsedPercent, mount)] = 40;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskInodesUsedPercent, mount)] = 3;
        }

        return new SystemSample(at ?? DateTimeOffset.UtcNow, values);
    }

    public void Dispose() => _client.Dispose();

    private static SocketsHttpHandler Handler(X509Certificate2 ca, X509Certificate2? client)
    {
        var handler = CaChain.PinnedHandler(ca, client);
        handler.MaxConnectionsPerServer = 1;
        handler.PooledConnectionLifetime = Timeout.InfiniteTimeSpan;
        return handler;
    }
}
