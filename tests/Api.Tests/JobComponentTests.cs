using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace ManagedServers.Api.Tests;

/// <summary>The jobs pages' shared parts, rendered with bUnit: a job's state badge, its step log, the words for its kind.</summary>
public sealed class JobComponentTests : BunitContext
{
    public JobComponentTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Theory]
    [InlineData("queued", "Queued")]
    [InlineData("running", "Running")]
    [InlineData("succeeded", "Succeeded")]
    [InlineData("failed", "Failed")]
    [InlineData("", "Unknown")]
    public void A_job_state_is_shown_in_words_and_in_its_colour_class(string state, string words)
    {
        var badge = Render<JobStateBadge>(p => p.Add(b => b.State, state));
        var span = badge.Find("span");
        Assert.Equal(words, span.TextContent);
        Assert.Contains("ms-state", span.ClassList);
        Assert.Contains($"ms-job-state-{state}", span.ClassList);
    }

    [Fact]
    public void A_job_s_steps_are_listed_oldest_first_with_their_utc_time_and_its_error_above_them()
    {
        var at = new DateTimeOffset(2026, 12, 4, 23, 5, 1, 250, TimeSpan.FromHours(2));
        var steps = Render<JobSteps>(p => p
            .Add(s => s.Steps, [new JobStepView(at, "queued"), new JobStepView(at.AddSeconds(1), "agent: stopping dns")])
            .Add(s => s.Error, "dns did not stop"));
        var items = steps.FindAll("[data-testid=job-steps] li");
        Assert.Equal(2, items.Count);
        Assert.Equal("21:05:01.250 queued", items[0].TextContent.Trim());
        Assert.EndsWith("agent: stopping dns", items[1].TextContent.Trim(), StringComparison.Ordinal);
        Assert.Contains("dns did not stop", steps.Find("[data-testid=job-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(steps.FindAll("[data-testid=no-steps]"));
    }

    [Fact]
    public void A_job_without_steps_says_they_are_to_come_and_shows_no_error()
    {
        var steps = Render<JobSteps>(p => p.Add(s => s.Steps, []));
        Assert.Contains("No step yet", steps.Find("[data-testid=no-steps]").TextContent, StringComparison.Ordinal);
        Assert.Empty(steps.FindAll("[data-testid=job-steps]"));
        Assert.Empty(steps.FindAll("[data-testid=job-error]"));
    }

    [Theory]
    [InlineData("stop_service", null, "Stop service")]
    [InlineData("start_service", "dns", "Start service dns")]
    [InlineData("push_zones", null, "Push zones")]
    [InlineData("dhcp_push", "dhcp4", "DHCP push dhcp4")]
    [InlineData("dhcp_ha_maintenance", null, "DHCP HA maintenance")]
    [InlineData("echo", null, "Echo")]
    public void A_job_kind_is_written_in_words(string kind, string? service, string words) =>
        Assert.Equal(words, JobText.What(kind, service));

    [Fact]
    public void The_kind_filter_offers_every_kind_the_control_plane_ships()
    {
        var shipped = typeof(Grains.Interfaces.Servers.JobKinds).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);
        Assert.Equal(shipped.Order(StringComparer.Ordinal), JobText.Kinds.Order(StringComparer.Ordinal));
    }
}
