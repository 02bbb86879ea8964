using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// System monitoring end to end over HTTPS push, embedded storage: a real agent process samples this
/// machine, follows settings changes without restart, spools while the silo is SIGKILLed and backfills
/// after it restarts, with every sample stored exactly once. Waits are generous liveness bounds.
/// </summary>
public sealed class MonitoringPushTests(ITestOutputHelper output) : SiloTestBase("mon")
{

    [Fact]
    public async Task Agent_samples_are_plausible_follow_settings_and_survive_a_silo_kill_exactly_once()
    {
        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(HeartbeatIntervalSeconds: 2, SystemIntervalSeconds: 1));
        var server = await Silo.CreateServerAsync("mon-1");
        var state = await EnrolAsync(server.Id, "agent");
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var agent = AgentProcess.RunVerbose(state);

        // Plausible samples of this machine: CPU count and memory total match /proc.
        var first = await WaitAsync(() => Silo.GetRawSamplesAsync(server.Id, since), r => r.Items.Count >= 3, "three samples", agent);
        var last = first.Items[^1].Metrics;
        Assert.Equal(File.ReadLines("/proc/stat").Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsDigit(l[3])), (int)last["cpu.count"]);
        var memTotalKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(memTotalKb * 1024, (long)last["memory.total_bytes"]);
        Assert.True(last["uptime.seconds"] > 0);
        Assert.Contains("disk.used_percent[/]", last.Keys);
        Assert.InRange(last["memory.used_percent"], 0, 100);

        // Settings reach the running agent within a heartbeat or two: a 3 s interval shows in the spacing.
        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(SystemIntervalSeconds: 3));
        var changedAt = DateTimeOffset.UtcNow;
        var settled = changedAt.AddSeconds(8); // two heartbeats later
        var spaced = await WaitAsync(
            async () => (await Silo.GetRawSamplesAsync(server.Id, changedAt)).Items.Where(i => i.Time > settled).ToList(),
            r => r.Count >= 3,
            "samples at the new interval",
            agent);
        var gaps = Gaps(spaced);
        output.WriteLine($"gaps after the change: {string.Join(", ", gaps.Select(g => g.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} s");
        Assert.All(gaps, g => Assert.InRange(g.TotalSeconds, 2.0, 4.5)); // the old interval was 1 s; a late tick on a loaded machine may stretch one gap
        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(SystemIntervalSeconds: 1));
        await Task.Delay(TimeSpan.FromSeconds(8));

        // SIGKILL the silo; the agent spools; a new silo on the same data gets the backlog, each sample once.
        var beforeKill = DateTimeOffset.UtcNow;
        Silo.KillHard();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await Silo.StopAsync();
        await Silo.StartAsync();
        var restartedAt = DateTimeOffset.UtcNow;
        var after = await WaitAsync(
            () => Silo.GetRawSamplesAsync(server.Id, beforeKill.AddSeconds(-5)),
            r => r.Items.Count > 0 && r.Items[^1].Time > restartedAt.AddSeconds(3),
            "samples after the restart",
            agent);
        var all = after.Items;
        var stored = all.Select(s => s.Time.ToUnixTimeMilliseconds()).ToList();
        var produced = AgentProcess.SpooledSampleTimes(agent.Output);
        var outage = produced.Where(t => t > beforeKill.ToUnixTimeMilliseconds() && t < restartedAt.ToUnixTimeMilliseconds()).Order().ToList();
        output.WriteLine($"{all.Count} samples around the outage, {outage.Count} taken while the silo was down; largest gap {Gaps(all).Max().TotalSeconds:0.0} s");
        Assert.True(outage.Count >= 5, $"the agent took only {outage.Count} samples while the silo was down");
        Assert.Equal(stored.Count, stored.Distinct().Count()); // none twice
        Assert.All(outage, t => Assert.Contains(t, stored)); // none lost
        var window = stored.Where(t => t > beforeKill.ToUnixTimeMilliseconds() && t < restartedAt.ToUnixTimeMilliseconds()).ToList();
        Assert.Equal(outage, window); // and nothing stored that the agent did not take
    }

    [Fact]
    public async Task Bad_monitoring_settings_are_refused_naming_the_field_and_change_nothing()
    {
        using var before = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/settings/monitoring");
        var original = await before.Content.ReadAsStringAsync();
        foreach (var (body, field) in new[]
        {
            ("{\"system_interval_seconds\":0}", "system_interval_seconds"),
            ("{\"dns_interval_seconds\":100000}", "dns_interval_seconds"),
            ("{\"raw_retention_minutes\":1}", "raw_retention_minutes"),
            ("{\"aggregate_retention_days\":0}", "aggregate_retention_days"),
            ("{\"communication\":\"carrier-pigeon\"}", "communication"),
            ("{\"monitoring_api_ip\":\"not-an-ip\",\"system_monitoring\":false}", "monitoring_api_ip"),
        })
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await Silo.Http.PutAsync($"{Silo.BaseUrl}/api/v1/settings/monitoring", content);
            var problem = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"\"{field}\"", problem, StringComparison.Ordinal);
        }

        using var after = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/settings/monitoring");
        Assert.Equal(original, await after.Content.ReadAsStringAsync());

        // A partial PUT changes only what it carries.
        await Silo.PutSettingsAsync(new MonitoringSettingsUpdate(RawRetentionMinutes: 720, Communication: "pull"));
        var view = await Silo.Http.GetFromJsonAsync<MonitoringSettingsView>($"{Silo.BaseUrl}/api/v1/settings/monitoring", ContractsJson.WireOptions);
        Assert.Equal(720, view!.RawRetentionMinutes);
        Assert.Equal("pull", view.Communication);
        Assert.Equal(5, view.SystemIntervalSeconds);
        Assert.Equal(30, view.AggregateRetentionDays);

        // The raw API names bad parameters too.
        using var raw = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/monitoring/system/raw");
        Assert.Equal(HttpStatusCode.BadRequest, raw.StatusCode);
        Assert.Contains("\"server\"", await raw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var step = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/monitoring/system/aggregate?server=x&step=61");
        Assert.Contains("\"step\"", await step.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var missing = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/monitoring/system/raw?server=no-such-server");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
