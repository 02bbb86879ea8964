using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class MonitoringSettingsCommandTests() : FakeApiTests(useApi: true)
{
    [Fact]
    public async Task Show_prints_every_setting()
    {
        var run = await Cli.RunAsync("settings", "monitoring", "show");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("10.0.0.1", run.Stdout);
        Assert.Contains("System monitoring", run.Stdout);
        Assert.Contains("on, every 5 s", run.Stdout);
        Assert.Contains("on, every 60 s", run.Stdout);
        Assert.Contains("1440 min (24h)", run.Stdout);
        Assert.Contains("400 d", run.Stdout);
        Assert.Contains("push", run.Stdout);
        Assert.Equal("GET /api/v1/settings/monitoring", Assert.Single(Api.Requests));
    }

    [Fact]
    public async Task Show_json_is_the_api_json()
    {
        var run = await Cli.RunAsync("settings", "monitoring", "show", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(5, doc.RootElement.GetProperty("system_interval_seconds").GetInt32());
        Assert.Equal(1440, doc.RootElement.GetProperty("raw_retention_minutes").GetInt32());
        Assert.True(doc.RootElement.GetProperty("verify_ca").GetBoolean());
    }

    [Fact]
    public async Task Set_sends_only_the_given_fields()
    {
        var run = await Cli.RunAsync("settings", "monitoring", "set", "--system-interval", "10", "--raw-retention-minutes", "720", "--communication", "pull", "--no-dns-monitoring");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var body = JsonDocument.Parse(Assert.Single(Api.MonitoringBodies));
        Assert.Equal(
            ["communication", "dns_monitoring", "raw_retention_minutes", "system_interval_seconds"],
            body.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(10, body.RootElement.GetProperty("system_interval_seconds").GetInt32());
        Assert.False(body.RootElement.GetProperty("dns_monitoring").GetBoolean());
        Assert.Equal("pull", Api.Monitoring.Communication);
        Assert.Equal(720, Api.Monitoring.RawRetentionMinutes);
        Assert.Equal(60, Api.Monitoring.DnsIntervalSeconds);
        Assert.Contains("Saved", run.Stdout);
        Assert.Contains("off, every 60 s", run.Stdout);
    }

    [Fact]
    public async Task Set_every_option_maps_to_its_field()
    {
        var run = await Cli.RunAsync(
            "settings", "monitoring", "set", "-o", "json",
            "--monitoring-api-ip", "10.9.9.9", "--heartbeat-interval", "30", "--heartbeat-missed-limit", "5", "--enrollment-token-hours", "48",
            "--certificate-days", "60", "--no-verify-ca", "--communication", "push", "--no-system-monitoring", "--system-interval", "15",
            "--dns-monitoring", "--dns-interval", "120", "--raw-retention-minutes", "60", "--aggregate-retention-days", "90",
            "--no-dhcp-monitoring", "--dhcp-interval", "30", "--dhcp-warning", "70", "--dhcp-critical", "95");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(new Contracts.Api.MonitoringSettingsView("10.9.9.9", 30, 5, 48, 60, false, "push", false, 15, true, 120, 60, 90, false, 30, 70, 95), Api.Monitoring);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(90, doc.RootElement.GetProperty("aggregate_retention_days").GetInt32());
    }

    [Fact]
    public async Task Field_errors_are_printed_one_per_line()
    {
        var run = await Cli.RunAsync("settings", "monitoring", "set", "--system-interval", "0", "--communication", "amqp");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            [
                "error: --system-interval: must be between 1 and 3600",
                "error: --communication: unknown value 'amqp': use push or pull",
            ],
            run.StderrLines);
        Assert.Equal("", run.Stdout);
        Assert.Equal("push", Api.Monitoring.Communication);
    }

    [Fact]
    public async Task Nothing_to_change_or_conflicting_flags_are_usage_errors()
    {
        var nothing = await Cli.RunAsync("settings", "monitoring", "set");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("nothing to change", nothing.ErrorLine);

        var both = await Cli.RunAsync("settings", "monitoring", "set", "--verify-ca", "--no-verify-ca");
        Assert.Equal(2, both.ExitCode);
        Assert.Equal("error: use either --verify-ca or --no-verify-ca", both.ErrorLine);
        Assert.Empty(Api.MonitoringBodies);
    }
}
