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

    /// <summary>
    /// An agent that stops leaves knotd running (its own session, output in a file, not stopped at dispose); the next
    /// one adopts that very process (same pid, not restarted) and still supervises it: killed, it is restarted and counted.
    /// </summary>
    [Fact]
    public async Task A_new_agent_adopts_the_process_a_previous_one_left_and_supervises_it()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        var first = host.NewManager();
        await first.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, null, "127.0.0.1", port), CancellationToken.None);
        var pid = ((ExecRuntime)first.Runtime!).ProcessId(ServiceKinds.Dns)!.Value;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var session = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3]; // field 6: its own session
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), session);
        string? Fd(int fd) => new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget;
        Assert.Equal("/dev/null", Fd(0));
        var log = Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "log", "dns.log");
        Assert.Equal((log, log), (Fd(1), Fd(2))); // output straight to its log file: no pipe the agent holds
        Assert.DoesNotContain(Directory.EnumerateFiles($"/proc/{pid}/fd").Select(f => new FileInfo(f).LinkTarget), t => t?.StartsWith("pipe:", StringComparison.Ordinal) == true);

        await first.DisposeAsync(); // the agent stops
        await Task.Delay(500);
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port), "knotd stopped with its agent");

        await using var second = host.NewManager();
        await second.ReconcileAsync(CancellationToken.None);
        Assert.Equal(pid, ((ExecRuntime)second.Runtime!).ProcessId(ServiceKinds.Dns));
        Assert.Equal(ServiceStates.Running, second.Status(ServiceKinds.Dns)!.State);
        Assert.Equal(0, second.Status(ServiceKinds.Dns)!.RestartCount);

        // Still supervised: not its child any more, its death is seen through /proc.
        Assert.True(ProcessSignals.Send(pid, ProcessSignals.SigKill));
        await ServiceTestHost.EventuallyAsync(
            async () =>
            {
                await second.SuperviseOnceAsync(CancellationToken.None);
                return second.Status(ServiceKinds.Dns) is { State: ServiceStates.Running, RestartCount: 1 };
            },
            "the adopted knotd restarted after it was killed");
        var restarted = ((ExecRuntime)second.Runtime!).ProcessId(ServiceKinds.Dns);
        Assert.NotNull(restarted);
        Assert.NotEqual(pid, restarted);
        await ServiceTestHost.EventuallyAsync(() => ServiceTestHost.DnsAnswersAsync(port), "the new knotd answers");
    }

    /// <summary>
    /// A process file whose pid now belongs to another process (another start time: the pid was reused) is not adopted:
    /// that process is left alone and the service is started afresh.
    /// </summary>
    [Fact]
    public async Task A_reused_pid_is_not_adopted()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        var first = host.NewManager();
        await first.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dns, RuntimeNames.Exec, null, "127.0.0.1", port), CancellationToken.None);
        var pid = ((ExecRuntime)first.Runtime!).ProcessId(ServiceKinds.Dns)!.Value;
        await first.DisposeAsync();
        ServiceTestHost.KillDaemonsOf(host.StateDirectory);

        // The pid now names an unrelated process (this test's sleep), as when the kernel reuses a pid.
        using var other = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            var file = Path.Combine(host.ServiceDirectory(ServiceKinds.Dns), "run", ExecRuntime.ProcessFileName);
            var state = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(file), ExecProcessJson.Default.ExecProcessState)!;
            Assert.Equal(pid, state.Pid);
            File.WriteAllBytes(file, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state with { Pid = other.Id }, ExecProcessJson.Default.ExecProcessState));

            await using var second = host.NewManager();
            await second.ReconcileAsync(CancellationToken.None);

            var started = ((ExecRuntime)second.Runtime!).ProcessId(ServiceKinds.Dns);
            Assert.NotNull(started);
            Assert.NotEqual(other.Id, started);
            Assert.False(other.HasExited, "the unrelated process was killed");
            await ServiceTestHost.EventuallyAsync(() => ServiceTestHost.DnsAnswersAsync(port), "the service started afresh answers");
        }
        finally
        {
            other.Kill();
        }
    }

    [Theory]
    [InlineData("knotd")]
    [InlineData("odd) name (x")]
    public void Stat_fields_are_counted_after_the_command_name(string comm)
    {
        // Fields 3 (state) to 22 (start time); the command name may hold spaces and parentheses.
        var stat = $"4242 ({comm}) S 1 4242 4242 0 -1 4194560 2100 0 0 0 5 3 0 0 20 0 9 0 987654 12345678 600 18446744073709551615";
        Assert.Equal(('S', 987654L), DetachedProcess.ParseStat(stat));
        Assert.Null(DetachedProcess.ParseStat("4242 (knotd"));
        Assert.Equal(DetachedProcess.Identify(Environment.ProcessId)!.StartTicks, DetachedProcess.ParseStat(File.ReadAllText("/proc/self/stat"))!.Value.StartTicks);
    }
}
