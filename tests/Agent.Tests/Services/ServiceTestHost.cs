using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>
/// A real <see cref="ServiceManager"/> (own server id, own state directory under /tmp) with its supervisor running.
/// Dispose kills the exec runtime's daemons of this state directory (they outlive their manager, as they outlive the
/// agent) and removes every container labelled with this server id.
/// </summary>
internal sealed class ServiceTestHost : IAsyncDisposable
{
    private readonly TempDir _temp = new();
    private readonly ServiceSupervisor _supervisor;

    public ServiceTestHost()
    {
        ServerId = "t" + Guid.NewGuid().ToString("N")[..10];
        Options = new ServiceManagerOptions { StateDirectory = _temp.Path, ServerId = ServerId, StopGrace = TimeSpan.FromSeconds(5) };
        Manager = NewManager();
        _supervisor = new ServiceSupervisor(Manager, TimeProvider.System, NullLogger<ServiceSupervisor>.Instance);
        _supervisor.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public string ServerId { get; }

    public ServiceManagerOptions Options { get; }

    public ServiceManager Manager { get; }

    public string StateDirectory => _temp.Path;

    public string ServiceDirectory(string kind) => Path.Combine(_temp.Path, "services", kind);

    public ServiceStatus? Status(string kind) => Manager.Status(kind);

    public ServiceManager NewManager() => new(
        Options,
        name => name == RuntimeNames.Docker
            ? new DockerRuntime(ServerId, null, NullLogger.Instance)
            : new ExecRuntime(null, NullLogger.Instance),
        TimeProvider.System,
        NullLogger<ServiceManager>.Instance);

    public async Task<ServiceCommandOutput> InstallDnsAsync(string runtime, int port, string? version = null) =>
        await Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, runtime, version, "127.0.0.1", port), CancellationToken.None);

    public static async Task<bool> DnsAnswersAsync(int port) =>
        (await ServiceProbes.DnsAsync(new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None, TimeSpan.FromSeconds(1))).Ok;

    /// <summary>A port free for UDP and TCP on 127.0.0.1 (Knot listens on both).</summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port");
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Polls <paramref name="condition"/> until true, or fails after 60 s.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for: {what}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The pids of processes whose command line names <paramref name="directory"/> (the exec runtime's daemons of a state directory).</summary>
    public static IReadOnlyList<int> DaemonsOf(string directory) => [.. Directory.EnumerateDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
        .Where(pid => pid > 0 && pid != Environment.ProcessId && ProcessSignals.CommandLine(pid) is { } line && line.Any(a => a.StartsWith(directory, StringComparison.Ordinal)))];

    /// <summary>SIGKILLs the daemons of <paramref name="directory"/> and waits until they are gone.</summary>
    public static void KillDaemonsOf(string directory)
    {
        var pids = DaemonsOf(directory);
        foreach (var pid in pids)
        {
            ProcessSignals.Send(pid, ProcessSignals.SigKill);
        }

        for (var i = 0; i < 100 && DaemonsOf(directory).Count > 0; i++)
        {
            Thread.Sleep(20);
        }

        foreach (var pid in pids)
        {
            DetachedProcess.TryReap(pid, out _, out _); // those this test process started: no zombie left
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _supervisor.StopAsync(CancellationToken.None);
            _supervisor.Dispose();
            await Manager.DisposeAsync();
        }
        finally
        {
            KillDaemonsOf(_temp.Path);
            var (_, ids) = await RunAsync("docker", "ps", "-aq", "--filter", $"label=io.managedservers.server={ServerId}");
            foreach (var id in ids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await RunAsync("docker", "rm", "-f", id);
            }

            _temp.Dispose();
        }
    }
}
