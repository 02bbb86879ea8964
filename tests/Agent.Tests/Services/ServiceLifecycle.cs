using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>The DNS lifecycle both runtimes must pass: install, stop, start, restart, crash → failed → restarted, remove.</summary>
internal static class ServiceLifecycle
{
    public static async Task RunDnsAsync(ServiceTestHost host, string runtime, Func<Task> crash, Func<Task<bool>> isGone)
    {
        var port = ServiceTestHost.FreePort();
        var installed = await host.InstallDnsAsync(runtime, port);
        Assert.Equal(ServiceStates.Running, installed.Service!.State);
        Assert.Equal(runtime, installed.Service.Runtime);
        Assert.Equal($"127.0.0.1:{port}", installed.Service.Listen);
        Assert.Contains(installed.Steps, s => s.StartsWith("answering after", StringComparison.Ordinal));
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port), "answers after install");
        Assert.Equal(runtime, host.Manager.RuntimeName);
        Assert.True(File.Exists(Path.Combine(host.StateDirectory, "services.json")));

        var stopped = await host.Manager.StopAsync(ServiceKinds.Dns, CancellationToken.None);
        Assert.Equal(ServiceStates.Stopped, stopped.Service!.State);
        Assert.False(await ServiceTestHost.DnsAnswersAsync(port), "no answer when stopped");
        await host.Manager.SuperviseOnceAsync(CancellationToken.None);
        Assert.Equal(ServiceStates.Stopped, host.Status(ServiceKinds.Dns)!.State); // not restarted by the supervisor

        var started = await host.Manager.StartAsync(ServiceKinds.Dns, CancellationToken.None);
        Assert.Equal(ServiceStates.Running, started.Service!.State);
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port), "answers after start");

        var restarted = await host.Manager.RestartAsync(ServiceKinds.Dns, CancellationToken.None);
        Assert.Equal(ServiceStates.Running, restarted.Service!.State);
        Assert.Equal(0, restarted.Service.RestartCount); // operator restarts are not counted
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port), "answers after restart");

        // A crash (SIGKILL): reported failed, then restarted by the supervisor, counted once.
        await crash();
        await ServiceTestHost.EventuallyAsync(() => Task.FromResult(host.Status(ServiceKinds.Dns)!.State == ServiceStates.Failed), "state failed after the kill");
        Assert.NotNull(host.Status(ServiceKinds.Dns)!.Error);
        await ServiceTestHost.EventuallyAsync(() => Task.FromResult(host.Status(ServiceKinds.Dns) is { State: ServiceStates.Running, RestartCount: 1 }), "restarted with restart count 1");
        await ServiceTestHost.EventuallyAsync(() => ServiceTestHost.DnsAnswersAsync(port), "answers after the crash restart");
        Assert.Equal(1, new ServicesFile(Path.Combine(host.StateDirectory, "services.json")).Read().Services.Single().RestartCount);

        var removed = await host.Manager.RemoveAsync(ServiceKinds.Dns, CancellationToken.None);
        Assert.Contains(removed.Steps, s => s.StartsWith("kept the data directory", StringComparison.Ordinal));
        Assert.Null(host.Status(ServiceKinds.Dns));
        Assert.True(await isGone(), "container/process gone after remove");
        Assert.True(Directory.Exists(Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "data")), "data directory kept");
        Assert.False(await ServiceTestHost.DnsAnswersAsync(port), "no answer after remove");
        Assert.Empty(new ServicesFile(Path.Combine(host.StateDirectory, "services.json")).Read().Services);

        var notInstalled = await Assert.ThrowsAsync<ServiceCommandException>(() => host.Manager.StartAsync(ServiceKinds.Dns, CancellationToken.None));
        Assert.Contains("not installed", notInstalled.Message, StringComparison.Ordinal);
    }

    public static async Task RunKeaAsync(ServiceTestHost host, string runtime, string kind)
    {
        var installed = await host.Manager.InstallAsync(new ServiceInstallArgs(kind, runtime), CancellationToken.None);
        Assert.Equal(ServiceStates.Running, installed.Service!.State);
        var socket = host.Manager.Endpoints(kind)!.ControlSocket!;
        var status = await ServiceProbes.KeaStatusAsync(socket, CancellationToken.None);
        Assert.True(status.Ok, $"status-get on {socket}: {status.Message}");
        var config = File.ReadAllText(Assert.Single(host.Manager.ConfigFiles(kind)));
        Assert.Contains("libdhcp_lease_cmds.so", config, StringComparison.Ordinal);
        Assert.Contains("libdhcp_stat_cmds.so", config, StringComparison.Ordinal);
        var log = await host.Manager.ReadLogTailAsync(kind, 64 * 1024, CancellationToken.None);
        Assert.Contains("lease_cmds", log, StringComparison.OrdinalIgnoreCase); // hooks loaded, logging to stdout captured
    }
}
