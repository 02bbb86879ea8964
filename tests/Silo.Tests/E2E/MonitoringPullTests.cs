using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// System monitoring end to end in pull mode, embedded storage: a real agent process runs with
/// <c>--pull-listen</c> and pushes no samples; the silo's server grain pulls them over mutual TLS at the 1 s system
/// interval. Across a silo SIGKILL and restart on the same data (the pull reminder brings the grain back without any
/// API call), every sample the agent spooled is stored exactly once. Waits are generous liveness bounds.
/// </summary>
public sealed partial class MonitoringPullTests(ITestOutputHelper output) : SiloTestBase("pull", new Dictionary<string, string>
{
    ["Orleans:MinimumReminderPeriod"] = "00:00:01",
    ["ServerGrain:PullReminderPeriod"] = "00:00:05",
})
{

    [Fact]
    public async Task Pulled_samples_are_stored_exactly_once_across_a_silo_kill_and_the_agent_pushes_none()
    {
        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(HeartbeatIntervalSeconds: 2, SystemIntervalSeconds: 1));
        var pullPort = Build.FreePort();
        var server = await CreatePullServerAsync("pull-1", pullPort);
        Assert.Equal("pull", server.Communication);
        Assert.Equal(pullPort, server.PullPort);
        var state = await EnrolAsync(server.Id, "agent");
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var agent = AgentProcess.RunVerbose(state, "--pull-listen", $"127.0.0.1:{pullPort}");

        // Samples arrive through pulls; the server runs; the silo counted pulled samples and no pushed ones.
        var first = await WaitAsync(() => Silo.GetRawSamplesAsync(server.Id, since), r => r.Items.Count >= 3, "three pulled samples", agent);
        Assert.True(first.Items[^1].Metrics["cpu.count"] >= 1);
        await WaitAsync(async () => (await Silo.GetServerAsync(server.Id))!.State, s => s == "running", "the server running", agent);
        using (var anonymous = new HttpClient())
        {
            var exposition = await anonymous.GetStringAsync($"{Silo.BaseUrl}/metrics");
            Assert.True(PrometheusTests.Value(exposition, "managedservers_ingest_messages_total", new() { ["kind"] = "metrics", ["transport"] = "pull" }) > 0, exposition);
            Assert.Null(PrometheusTests.Value(exposition, "managedservers_ingest_messages_total", new() { ["kind"] = "metrics", ["transport"] = "https" }));
        }

        await Task.Delay(TimeSpan.FromSeconds(4));

        // SIGKILL the silo; the agent spools; a new silo on the same data pulls the backlog, each sample once.
        var beforeKill = DateTimeOffset.UtcNow;
        Silo.KillHard();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await Silo.StopAsync();
        var pullsBeforeRestart = PullsAnswered(agent.Output);
        await Silo.StartAsync();
        var restartedAt = DateTimeOffset.UtcNow;

        // No API call touches the server: the pull reminder alone reactivates its grain, which pulls again.
        await WaitAsync(() => Task.FromResult(PullsAnswered(agent.Output)), n => n > pullsBeforeRestart, "a pull after the restart, before any API call", agent);
        var after = await WaitAsync(
            () => Silo.GetRawSamplesAsync(server.Id, since),
            r => r.Items.Count > 0 && r.Items[^1].Time > restartedAt.AddSeconds(3),
            "samples after the restart",
            agent);

        var stored = after.Items.Select(s => s.Time.ToUnixTimeMilliseconds()).ToList();
        var produced = AgentProcess.SpooledSampleTimes(agent.Output);
        var outage = produced.Where(t => t > beforeKill.ToUnixTimeMilliseconds() && t < restartedAt.ToUnixTimeMilliseconds()).Order().ToList();
        output.WriteLine($"{stored.Count} samples stored, {produced.Count} spooled by the agent, {outage.Count} while the silo was down; largest gap {Gaps(after.Items).Max().TotalSeconds:0.0} s");
        Assert.True(outage.Count >= 5, $"the agent took only {outage.Count} samples while the silo was down");
        Assert.Equal(stored.Count, stored.Distinct().Count()); // none twice
        Assert.All(produced.Where(t => t <= stored.Max()), t => Assert.Contains(t, stored)); // none lost, outage included
        Assert.All(stored, t => Assert.Contains(t, produced)); // nothing stored that the agent did not take

        // The agent never tried to push a sample (no send attempt, failed or refused), and refused no pull.
        Assert.Contains("this agent does not push samples", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("samples failed", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("refused", string.Concat(agent.Output.Split('\n').Where(l => l.Contains("samples", StringComparison.Ordinal))), StringComparison.Ordinal);
        Assert.DoesNotContain("Pull connection from", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_port_is_validated_and_the_monitoring_communication_is_the_default()
    {
        using (var response = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers", new CreateServerRequest("bad-port", "dns", "127.0.0.1", PullPort: 70000), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("\"pull_port\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var pushed = await Silo.CreateServerAsync("default-push");
        Assert.Equal("push", pushed.Communication);
        Assert.Null(pushed.PullPort);

        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(Communication: "pull"));
        var pulled = await Silo.CreateServerAsync("default-pull");
        Assert.Equal("pull", pulled.Communication);

        using (var patch = await Silo.Http.PatchAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers/{pulled.Id}", new UpdateServerRequest(PullPort: 9555), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            Assert.Equal(9555, (await patch.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!.PullPort);
        }

        using (var patch = await Silo.Http.PatchAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers/{pulled.Id}", new UpdateServerRequest(PullPort: 0), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        }

        // An explicit communication still wins over the default.
        using var explicitPush = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers", new CreateServerRequest("explicit-push", "dns", "127.0.0.1", Communication: "push"), ContractsJson.WireOptions);
        Assert.Equal("push", (await explicitPush.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!.Communication);
    }

    private async Task<ServerView> CreatePullServerAsync(string name, int pullPort)
    {
        using var response = await Silo.Http.PostAsJsonAsync(
            $"{Silo.BaseUrl}/api/v1/servers",
            new CreateServerRequest(name, "dns", "127.0.0.1", "Debian 12", Communication: "pull", PullPort: pullPort),
            ContractsJson.WireOptions);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!;
    }

    /// <summary>How many pulls the verbose agent has answered.</summary>
    private static int PullsAnswered(string agentOutput) => PullAnsweredLine().Count(agentOutput);

    [GeneratedRegex(@"Pull from \S+: acknowledged through")]
    private static partial Regex PullAnsweredLine();
}
