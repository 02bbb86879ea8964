using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using ManagedServers.Agent.Diagnostics;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Benchmarks -- services [runs]</c>: install → answering per runtime and service
/// (real Docker engine with the local images, host knotd/kea), then remove; median and max of <c>runs</c> (default 5).
/// Not BenchmarkDotNet: each run starts a daemon or a container, so a handful of timed runs is the honest measure.
/// </summary>
public static class ServiceStartBench
{
    public static async Task<int> RunAsync(int runs)
    {
        foreach (var runtime in new[] { RuntimeNames.Exec, RuntimeNames.Docker })
        {
            foreach (var kind in new[] { ServiceKinds.Dns, ServiceKinds.Dhcp4 })
            {
                var state = Directory.CreateTempSubdirectory("ms-bench-svc-").FullName;
                var serverId = "bench" + Guid.NewGuid().ToString("N")[..8];
                var options = new ServiceManagerOptions { StateDirectory = state, ServerId = serverId };
                var manager = new ServiceManager(
                    options,
                    name => name == RuntimeNames.Docker ? new DockerRuntime(serverId, null, NullLogger.Instance) : new ExecRuntime(null, NullLogger.Instance),
                    TimeProvider.System,
                    NullLogger<ServiceManager>.Instance);
                var samples = new List<double>();
                try
                {
                    for (var i = 0; i < runs; i++)
                    {
                        var args = kind == ServiceKinds.Dns ? new ServiceInstallArgs(kind, runtime, null, "127.0.0.1", FreePort()) : new ServiceInstallArgs(kind, runtime);
                        var started = Stopwatch.GetTimestamp();
                        var installed = await manager.InstallAsync(args, CancellationToken.None);
                        samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        if (installed.Service?.State != ServiceStates.Running)
                        {
                            Console.Error.WriteLine($"{runtime} {kind}: install did not end running: {string.Join("; ", installed.Steps)}");
                            return 1;
                        }

                        await manager.RemoveAsync(kind, CancellationToken.None);
                    }
                }
                finally
                {
                    Directory.Delete(state, recursive: true);
                }

                samples.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{runtime,-6} {kind,-5} install→answering: median {samples[samples.Count / 2]:0} ms, max {samples[^1]:0} ms ({samples.Count} runs: {string.Join(", ", samples.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))})"));
            }
        }

        return 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The debug bundle on the agent: a typical state directory (1 MiB agent log, settings, last diagnostics) and one whose
/// 50 MiB log must be cut to the per-log bound. Reports the time and (in the log) the size.
/// </summary>
[MemoryDiagnoser]
public class DebugBundleBenchmarks
{
    private string _typical = string.Empty;
    private string _huge = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _typical = MakeStateDirectory(1 << 20);
        _huge = MakeStateDirectory(50 << 20);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Directory.Delete(_typical, recursive: true);
        Directory.Delete(_huge, recursive: true);
    }

    [Benchmark]
    public Task<DebugBundleOutput> Typical1MiBLog() => Build(_typical);

    [Benchmark]
    public Task<DebugBundleOutput> Bounded50MiBLog() => Build(_huge);

    private static Task<DebugBundleOutput> Build(string directory) =>
        new DebugBundleBuilder(new StateDirectory(directory), new EmptyServiceInventory(), TimeProvider.System, NullLogger<DebugBundleBuilder>.Instance)
            .BuildAsync(new DebugBundleArgs(), CancellationToken.None);

    private static string MakeStateDirectory(int logBytes)
    {
        var directory = Directory.CreateTempSubdirectory("ms-bench-bundle-").FullName;
        File.WriteAllText(Path.Combine(directory, "agent.json"), """{"server_id":"srv-bench","server_name":"bench","agent_url":"https://127.0.0.1:9001/"}""");
        File.WriteAllText(Path.Combine(directory, "diagnostics.json"), """{"at":"2026-11-25T00:00:00Z","checks":[]}""");
        var logs = Directory.CreateDirectory(Path.Combine(directory, RollingFileLoggerProvider.DirectoryName)).FullName;
        using var log = File.CreateText(RollingFileLoggerProvider.FilePath(logs, 0));
        var random = new Random(42);
        var written = 0;
        while (written < logBytes)
        {
            var line = $"2026-11-25 00:00:{written % 60:00} info: ManagedServers.Agent[301] Command cmd_{random.Next():x8}{random.Next():x8} (ping) succeeded";
            log.WriteLine(line);
            written += line.Length + 1;
        }

        return directory;
    }
}
