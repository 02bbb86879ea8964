using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>The exec runtime with the host's knotd and Kea.</summary>
public sealed class ExecServiceTests
{
    [Fact]
    public async Task Dns_lifecycle_through_exec()
    {
        await using var host = new ServiceTestHost();
        int? killed = null;
        await ServiceLifecycle.RunDnsAsync(
            host,
            RuntimeNames.Exec,
            crash: () =>
            {
                killed = ((ExecRuntime)host.Manager.Runtime!).ProcessId(ServiceKinds.Dns);
                Assert.NotNull(killed);
                Assert.True(ProcessSignals.Send(killed.Value, ProcessSignals.SigKill));
                return Task.CompletedTask;
            },
            isGone: () => Task.FromResult(((ExecRuntime)host.Manager.Runtime!).ProcessId(ServiceKinds.Dns) is null && ProcessSignals.CommandLine(killed!.Value) is null));
        var log = File.ReadAllText(Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "log", "dns.log"));
        Assert.Contains("agent started knotd", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ServiceKinds.Dhcp4)]
    [InlineData(ServiceKinds.Dhcp6)]
    public async Task Kea_answers_status_get_through_exec(string kind)
    {
        await using var host = new ServiceTestHost();
        await ServiceLifecycle.RunKeaAsync(host, RuntimeNames.Exec, kind);
    }

    [Fact]
    public async Task Install_command_answers_with_the_status_and_steps_and_a_missing_version_is_refused()
    {
        await using var host = new ServiceTestHost();
        var handler = new ServiceInstallCommandHandler(host.Manager, TimeProvider.System);
        var port = ServiceTestHost.FreePort();
        var args = JsonSerializer.SerializeToElement(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, null, "127.0.0.1", port), ContractsJson.Default.ServiceInstallArgs);

        var result = await handler.ExecuteAsync(new AgentCommand("i-1", CommandKinds.ServiceInstall, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), args), CancellationToken.None);

        Assert.True(result.Success, result.Error);
        var output = result.Output!.Value.Deserialize(ContractsJson.Default.ServiceCommandOutput)!;
        Assert.Equal(ServiceStates.Running, output.Service!.State);
        Assert.Equal("3.2.6", output.Service.Version);
        Assert.Contains(output.Steps, s => s.StartsWith("configuration check passed", StringComparison.Ordinal));

        var wrongVersion = JsonSerializer.SerializeToElement(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, "9.9.9", "127.0.0.1", port), ContractsJson.Default.ServiceInstallArgs);
        var refused = await handler.ExecuteAsync(new AgentCommand("i-2", CommandKinds.ServiceInstall, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), wrongVersion), CancellationToken.None);
        Assert.False(refused.Success);
        Assert.Equal("dns version 9.9.9 is not installed on this host; the host has knotd 3.2.6 (the exec runtime runs the installed package)", refused.Error);
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port));

        var notInstalled = await ServiceActionCommandHandler.Create(CommandKinds.ServiceStart, host.Manager, TimeProvider.System).ExecuteAsync(
            new AgentCommand("s-1", CommandKinds.ServiceStart, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), JsonSerializer.SerializeToElement(new ServiceActionArgs(ServiceKinds.Dhcp6), ContractsJson.Default.ServiceActionArgs)),
            CancellationToken.None);
        Assert.False(notInstalled.Success);
        Assert.Equal("dhcp6 is not installed on this server (install it with service.install first)", notInstalled.Error);
    }

    [Fact]
    public async Task A_new_agent_stops_the_child_a_previous_one_left_and_starts_it_again()
    {
        await using var host = new ServiceTestHost();
        await using var first = host.NewManager();
        var port = ServiceTestHost.FreePort();
        await first.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, null, "127.0.0.1", port), CancellationToken.None);
        var oldPid = ((ExecRuntime)first.Runtime!).ProcessId(ServiceKinds.Dns)!.Value;

        await using var second = host.NewManager();
        await second.ReconcileAsync(CancellationToken.None);

        var newPid = ((ExecRuntime)second.Runtime!).ProcessId(ServiceKinds.Dns);
        Assert.NotNull(newPid);
        Assert.NotEqual(oldPid, newPid);
        Assert.Null(ProcessSignals.CommandLine(oldPid));
        Assert.Equal(ServiceStates.Running, second.Status(ServiceKinds.Dns)!.State);
        await ServiceTestHost.EventuallyAsync(() => ServiceTestHost.DnsAnswersAsync(port), "the new child answers");
        Assert.Equal(newPid.ToString(), File.ReadAllText(Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "run", "agent.pid")).Trim());
    }
}
