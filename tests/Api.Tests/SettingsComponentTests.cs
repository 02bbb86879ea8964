using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace ManagedServers.Api.Tests;

/// <summary>The settings pages' confirmation: what changed between two views of the settings, and how it is shown.</summary>
public sealed class SettingsComponentTests : BunitContext
{
    public SettingsComponentTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    private static readonly MonitoringSettingsView Before = new("", 30, 3, 24, 7, true, "push", true, 5, true, 60, 1440, 30, true, 60, 80, 90);

    private static readonly SettingField<MonitoringSettingsView>[] Fields =
    [
        new("Monitoring API IP", s => s.MonitoringApiIp),
        new("Heartbeat interval (seconds)", s => s.HeartbeatIntervalSeconds),
        new("Verify CA", s => s.VerifyCa),
        new("Keep raw samples (minutes)", s => s.RawRetentionMinutes),
        new("Warning level (%)", s => s.DhcpUtilisationWarning),
    ];

    [Fact]
    public void Only_the_fields_whose_value_differs_are_listed_in_the_fields_order_as_people_read_them()
    {
        var after = Before with { MonitoringApiIp = "10.0.0.5", VerifyCa = false, RawRetentionMinutes = 2880, DhcpUtilisationWarning = 80, CertificateDays = 9 };
        var changes = SettingChanges.Between(Before, after, Fields);
        Assert.Equal(
            [new("Monitoring API IP", "—", "10.0.0.5"), new("Verify CA", "on", "off"), new SettingChange("Keep raw samples (minutes)", "1,440", "2,880")],
            changes);
        Assert.Empty(SettingChanges.Between(Before, Before, Fields));
        Assert.Equal("admins, viewers", SettingChanges.Text(new[] { "admins", "viewers" }));
    }

    [Fact]
    public void The_summary_shows_old_and_new_values_and_a_secret_only_as_changed()
    {
        var summary = Render<ChangeSummary>(p => p.Add(s => s.Changes, [new SettingChange("Warning level (%)", "80", "85"), SettingChange.SecretChanged("Password")]));
        var items = summary.FindAll("[data-testid=change]");
        Assert.Equal(2, items.Count);
        Assert.Equal("Warning level (%): 80 → 85", items[0].TextContent.Trim());
        Assert.Equal("80", items[0].QuerySelector("[data-testid=change-old]")!.TextContent);
        Assert.Equal("85", items[0].QuerySelector("[data-testid=change-new]")!.TextContent);
        Assert.Equal("Password changed", items[1].TextContent.Trim());
        Assert.Null(items[1].QuerySelector("[data-testid=change-new]"));
        Assert.Contains("Saved. What changed:", summary.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void A_save_that_changed_nothing_says_so_and_no_save_yet_shows_nothing()
    {
        var none = Render<ChangeSummary>(p => p.Add(s => s.Changes, []));
        Assert.Contains("nothing changed", none.Find("[data-testid=no-changes]").TextContent, StringComparison.Ordinal);

        var notYet = Render<ChangeSummary>();
        Assert.Empty(notYet.Markup.Trim());
    }
}
