using System.Text.Json;
using ManagedServers.Agent.Diagnostics;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests.Diagnostics;

/// <summary>The agent log file, and diagnostics and the debug bundle as commands of a running agent.</summary>
[Collection(nameof(TransportTests))]
public sealed class AgentLogAndHostTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Log_file_rolls_within_its_bounds()
    {
        using var temp = new TempDir();
        var provider = new RollingFileLoggerProvider(temp.Path, maxFileBytes: 4096, files: 2);
        var logger = provider.CreateLogger("Test");
        for (var i = 0; i < 500; i++)
        {
            logger.LogInformation("line {Number} with some padding to make it longer than it needs to be", i);
        }

        await Eventually.TrueAsync(() => File.Exists(provider.CurrentFile) && File.ReadAllText(provider.CurrentFile).Contains("line 499 ", StringComparison.Ordinal), "the last line in agent.log");
        provider.Dispose();

        Assert.Equal(["agent.log", "agent.log.1"], Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(Directory.GetFiles(temp.Path), f => Assert.InRange(new FileInfo(f).Length, 1, 4096));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(provider.CurrentFile));
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info: Test\[0\] line \d+ with", File.ReadAllLines(provider.CurrentFile)[0]);
    }

    [Fact]
    public async Task Log_file_drops_and_counts_when_its_queue_is_full()
    {
        using var temp = new TempDir();
        using var provider = new RollingFileLoggerProvider(temp.Path, queueCapacity: 1);
        var logger = provider.CreateLogger("Test");
        for (var i = 0; i < 20_000; i++)
        {
            logger.LogInformation("burst {Number}", i);
        }

        Assert.True(provider.Dropped > 0, "nothing was dropped");

        // Once the writer has room again a new line gets through (on a busy machine the one-entry queue may still be
        // full for a while: a line logged then is dropped too, so log it again until one lands).
        await Eventually.TrueAsync(
            () =>
            {
                if (File.Exists(provider.CurrentFile) && File.ReadAllText(provider.CurrentFile).Contains("after the burst", StringComparison.Ordinal))
                {
                    return true;
                }

                logger.LogInformation("after the burst");
                return false;
            },
            "the line after the burst");
        Assert.Contains("log entries dropped", File.ReadAllText(provider.CurrentFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diagnostics_and_debug_bundle_commands_over_https()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = temp.Combine("state");
        Assert.Equal(0, (await plane.EnrollAsync(temp, stateDir)).Code);

        using (var host = AgentHost.Build(new AgentRunOptions { StateDir = stateDir, CommandWaitSeconds = 1 }))
        {
            await host.StartAsync();
            var now = DateTimeOffset.UtcNow;
            plane.Deliver(new AgentCommand("diag-1", CommandKinds.Diagnostics, now, now.AddMinutes(5)));
            await Eventually.TrueAsync(() => plane.CommandResults.Any(r => r.CommandId == "diag-1"), "the diagnostics result", Generous);
            plane.Deliver(new AgentCommand("bundle-1", CommandKinds.DebugBundle, now, now.AddMinutes(5)));
            await Eventually.TrueAsync(() => plane.CommandResults.Any(r => r.CommandId == "bundle-1"), "the debug bundle result", Generous);
            await host.StopAsync();
        }

        var diagnostics = plane.CommandResults.Single(r => r.CommandId == "diag-1");
        Assert.True(diagnostics.Success, diagnostics.Error);
        var report = diagnostics.Output!.Value.Deserialize(ContractsJson.Default.DiagnosticsReport)!;
        Assert.Equal(
            ["disk /", "disk state directory", "control plane", "clock skew", "client certificate", "broker", "docker engine", "services"],
            report.Checks.Select(c => c.Name));
        var failed = report.Checks.Where(c => c.Name is not ("disk /" or "disk state directory") && c.Status != CheckStatuses.Pass).ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));

        var result = plane.CommandResults.Single(r => r.CommandId == "bundle-1");
        Assert.True(result.Success, result.Error);
        var bundle = result.Output!.Value.Deserialize(ContractsJson.Default.DebugBundleOutput)!;
        var entries = DebugBundleTests.ReadTarGz(Convert.FromBase64String(bundle.BundleBase64));
        Assert.Contains("\"name\":\"control plane\"", entries["diagnostics.json"], StringComparison.Ordinal);
        Assert.Contains("ManagedServers.Agent[100] Agent ", entries["agent/agent.log"], StringComparison.Ordinal);
        Assert.Contains("Command diag-1 (diagnostics) succeeded", entries["agent/agent.log"], StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", string.Concat(entries.Values), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeControlPlane.Token, string.Concat(entries.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_password_is_never_written_to_the_agent_log_or_the_bundle()
    {
        const string password = "amqp-Pa55-never-log-me";
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var url = $"https://127.0.0.1:{DiagnosticsTestSupport.FreePort()}";
        var state = DiagnosticsTestSupport.EnrolledState(temp.Combine("state"), ca, url);
        var brokerPort = DiagnosticsTestSupport.FreePort();
        state.WriteAmqp(new AmqpCredentials("127.0.0.1", brokerPort, "/", "agent-srv-0001", password, false, "p0001.srv-0001", "agent.srv-0001"));
        var log = Path.Combine(state.Path, "logs", "agent.log");

        DebugBundleOutput bundle;
        using (var host = AgentHost.Build(new AgentRunOptions { StateDir = state.Path, MinimumLogLevel = LogLevel.Trace }))
        {
            await host.StartAsync();
            await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"RabbitMQ 127.0.0.1:{brokerPort} unavailable", StringComparison.Ordinal), "the broker failure in agent.log", Generous);
            var report = await host.Services.GetRequiredService<DiagnosticsRunner>().RunAsync(CancellationToken.None);
            Assert.Equal(CheckStatuses.Fail, report.Checks.Single(c => c.Name == "broker").Status);
            Assert.Equal(CheckStatuses.Fail, report.Checks.Single(c => c.Name == "control plane").Status);
            bundle = await host.Services.GetRequiredService<DebugBundleBuilder>().BuildAsync(new DebugBundleArgs(), CancellationToken.None);
            await host.StopAsync();
        }

        var text = File.ReadAllText(log);
        Assert.Contains("Diagnostics: ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        var entries = DebugBundleTests.ReadTarGz(Convert.FromBase64String(bundle.BundleBase64));
        Assert.Contains("agent/amqp.json", entries.Keys);
        Assert.DoesNotContain(password, string.Concat(entries.Values), StringComparison.Ordinal);
        Assert.DoesNotContain(password, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(bundle.BundleBase64)), StringComparison.Ordinal);
    }
}
