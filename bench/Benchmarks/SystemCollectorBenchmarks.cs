using BenchmarkDotNet.Attributes;
using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// The agent's system collectors: one full pass over this machine's /proc (all six collectors, statvfs
/// included), and the network collector over a generated table of 100,000 TCP sockets (a busy DNS host).
/// </summary>
[MemoryDiagnoser]
public class SystemCollectorBenchmarks
{
    private SystemCollectors _collectors = null!;
    private NetworkCollector _busyNetwork = null!;
    private string _busyRoot = null!;
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        _collectors = SystemCollectors.CreateDefault(TimeProvider.System, NullLogger<SystemCollectors>.Instance);
        _collectors.Collect();

        _busyRoot = Directory.CreateTempSubdirectory("ms-bench-proc-").FullName;
        var net = Directory.CreateDirectory(Path.Combine(_busyRoot, "net")).FullName;
        using (var tcp = new StreamWriter(Path.Combine(net, "tcp")))
        {
            tcp.Write("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
            for (var i = 0; i < 100_000; i++)
            {
                tcp.Write($"{i,6}: 0F02000A:{i % 65536:X4} 0202000A:0035 {i % 11 + 1:X2} 00000000:00000000 00:00000000 00000000     0        0 {i} 1 0000000000000000 20 4 30 10 -1\n");
            }
        }

        File.WriteAllText(Path.Combine(net, "udp"), "   sl  local_address rem_address   st\n");
        _busyNetwork = new NetworkCollector(_busyRoot);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_busyRoot, recursive: true);

    [Benchmark]
    public SystemSample FullPassOnThisMachine() => _collectors.Collect();

    [Benchmark]
    public int Network100kTcpSockets()
    {
        _values.Clear();
        _busyNetwork.Collect(_values);
        return _values.Count;
    }
}
