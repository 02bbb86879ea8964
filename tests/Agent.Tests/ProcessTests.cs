using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ManagedServers.Contracts;

namespace ManagedServers.Agent.Tests;

/// <summary>
/// The built agent as a real process: exit codes of <c>run</c> on SIGTERM (0, after a stopping
/// heartbeat) and on refusal (3). Uses the agent's own build output (Agent/bin/CONFIG/net10.0), or the
/// executable named by MANAGEDSERVERS_AGENT_TEST_BINARY.
/// </summary>
[Collection(nameof(TransportTests))]
public sealed class ProcessTests
{
    [Fact]
    public async Task Sigterm_sends_a_stopping_heartbeat_and_exits_0()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = await EnrollAsync(plane, temp);

        using var agent = StartAgent(stateDir, out var output);
        await Eventually.TrueAsync(() => plane.Heartbeats.Count >= 2 || agent.HasExited, "two heartbeats from the agent process");
        Assert.False(agent.HasExited, output.ToString());

        using (var kill = Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await agent.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        Assert.True(agent.ExitCode == 0, $"exit code {agent.ExitCode}: {output}");
        var last = plane.Heartbeats.Last().Heartbeat;
        Assert.True(last.Stopping);
        Assert.Single(plane.Heartbeats.Select(h => h.Heartbeat.BootId).Distinct());
    }

    [Fact]
    public async Task Refusal_exits_3_with_one_clear_line()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = await EnrollAsync(plane, temp);
        plane.Revoked = true;

        using var agent = StartAgent(stateDir, out var output);
        await agent.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);

        Assert.True(agent.ExitCode == 3, $"exit code {agent.ExitCode}: {output}");
        var text = output.ToString();
        var refusal = Assert.Single(text.Split('\n'), l => l.Contains("control plane refused this agent", StringComparison.Ordinal));
        Assert.EndsWith($"control plane refused this agent: server {FakeControlPlane.ServerId} was deleted", refusal.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_without_state_exits_1_and_bad_usage_exits_2()
    {
        using var temp = new TempDir();

        using var missing = StartAgent(temp.Combine("none"), out var output);
        await missing.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("agent is not enrolled", output.ToString(), StringComparison.Ordinal);

        using var usage = Start(["run"], out var usageOutput);
        await usage.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("usage:", usageOutput.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string> EnrollAsync(FakeControlPlane plane, TempDir temp)
    {
        var bundlePath = temp.Combine("bundle.json");
        await File.WriteAllTextAsync(bundlePath, JsonSerializer.Serialize(plane.Bundle(), ContractsJson.Default.SetupBundle));
        var stateDir = temp.Combine("state");
        using var enroll = Start(["enroll", "--bundle", bundlePath, "--state-dir", stateDir], out var output);
        await enroll.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        Assert.True(enroll.ExitCode == 0, output.ToString());
        Assert.Contains("enrolled as", output.ToString(), StringComparison.Ordinal);
        return stateDir;
    }

    private static Process StartAgent(string stateDir, out StringBuilder output) => Start(["run", "--state-dir", stateDir], out output);

    private static Process Start(string[] args, out StringBuilder output)
    {
        // MANAGEDSERVERS_AGENT_TEST_BINARY runs a published (e.g. trimmed, self-contained) agent instead of the build output.
        var binary = Environment.GetEnvironmentVariable("MANAGEDSERVERS_AGENT_TEST_BINARY");
        var start = new ProcessStartInfo(string.IsNullOrEmpty(binary) ? Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet" : binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.IsNullOrEmpty(binary))
        {
            start.ArgumentList.Add(AgentDll());
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MANAGEDSERVERS_AGENT_LOG"] = "debug";
        var buffer = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(buffer, e.Data);
        process.ErrorDataReceived += (_, e) => Append(buffer, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = buffer;
        return process;
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.Append(line).Append('\n');
        }
    }

    /// <summary>Agent/bin/CONFIG/net10.0/ManagedServers.Agent.dll, found from this assembly's bin/CONFIG/TFM folder.</summary>
    private static string AgentDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Directory.Build.props")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var dll = Path.Combine(root.FullName, "Agent", "bin", configuration, tfm, "ManagedServers.Agent.dll");
        Assert.True(File.Exists(dll), $"build the agent first: {dll} not found");
        return dll;
    }
}
