using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Fleet;

// dotnet run -c Release --project bench/Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Benchmarks -- services [runs]   (service start latency per runtime)
// dotnet run -c Release --project bench/Benchmarks -- dns [rounds] [seconds]   (dnsperf QPS without and with DNS monitoring)
if (args is ["dns", ..])
{
    return await ManagedServers.Benchmarks.DnsMonitoringBench.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 15);
}

// dotnet run -c Release --project bench/Benchmarks -- zones [records]   (one timed zone import: parse, validate, render, gzip)
// dotnet run -c Release --project bench/Benchmarks -- dhcp-monitoring [rounds] [seconds]   (perfdhcp leases/s, monitoring on and off alternating)
if (args is ["dhcp-monitoring", ..])
{
    return await ManagedServers.Benchmarks.DhcpMonitoringBench.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10);
}

if (args is ["dhcp", ..])
{
    return await ManagedServers.Benchmarks.DhcpBench.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
}

if (args is ["zones", ..])
{
    return ManagedServers.Benchmarks.ZoneBench.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
}

if (args is ["services", ..])
{
    return await ManagedServers.Benchmarks.ServiceStartBench.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
}

BenchmarkSwitcher.FromAssembly(typeof(FleetListingBenchmarks).Assembly).Run(args);
return 0;

/// <summary>
/// The listing path for a fleet of 10,000 servers: one shard's query (≈ 312 servers) and the API's
/// merge of 32 shard answers into a page of 20.
/// </summary>
[MemoryDiagnoser]
public class FleetListingBenchmarks
{
    private ServerSnapshot[] _shard = [];
    private IndexQueryResult[] _answers = [];
    private IndexQuery _search = null!;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        var fleet = Enumerable.Range(0, 10_000).Select(i => new ServerSnapshot(
            $"srv-{i:x16}",
            new ServerDefinition($"dns-{i:D5}", ServerKind.Dns, $"10.0.{i / 256}.{i % 256}", "Debian 12", AgentRuntime.Docker, CommunicationMode.Push, string.Empty, $"srv-user-{i}"),
            ServerState.Running, now, now, 4, ComponentVersionSet.None, now, $"host-{i}", 100, now.AddDays(7), "1.0")).ToArray();
        _shard = fleet.Where(s => FleetIndex.ShardOf(s.Id) == 0).ToArray();
        _search = new IndexQuery("dns-01", ServerSort.Name, false, 20);
        _answers = Enumerable.Range(0, FleetIndex.ShardCount)
            .Select(shard => ServerOrdering.Query(fleet.Where(s => FleetIndex.ShardOf(s.Id) == shard), _search))
            .ToArray();
    }

    [Benchmark]
    public IndexQueryResult ShardQueryWithSearch() => ServerOrdering.Query(_shard, _search);

    [Benchmark]
    public IndexQueryResult ShardQueryFirstPage() => ServerOrdering.Query(_shard, new IndexQuery(null, ServerSort.Name, false, 20));

    [Benchmark]
    public List<ServerSnapshot> MergeShardAnswers()
    {
        var merged = new List<ServerSnapshot>(_answers.Sum(a => a.Items.Length));
        foreach (var a in _answers)
        {
            merged.AddRange(a.Items);
        }

        merged.Sort(ServerOrdering.Comparer(ServerSort.Name, false));
        return merged.Take(20).ToList();
    }
}

/// <summary>The per-heartbeat work inside a server grain: dedupe/state machine and the request window.</summary>
[MemoryDiagnoser]
public class HeartbeatPathBenchmarks
{
    private readonly HeartbeatTracker _tracker = new(TimeProvider.System);
    private readonly RequestCounter _counter = new(TimeProvider.System);
    private readonly Guid _boot = Guid.NewGuid();
    private long _sequence;

    [Benchmark]
    public HeartbeatOutcome ObserveHeartbeat() =>
        _tracker.Observe(new Heartbeat("srv-1", Guid.Empty, _boot, ++_sequence, DateTimeOffset.UtcNow, "1.0", 1, null, null));

    [Benchmark]
    public int CountRequests()
    {
        _counter.Add();
        return _counter.Count();
    }
}
