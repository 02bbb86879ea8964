using ManagedServers.Api.Ui.Pages;
using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace ManagedServers.Api.Tests;

/// <summary>The DHCP page's parts: review findings placed beside the object they name, utilisation levels, a push's per-server result.</summary>
public sealed class DhcpComponentTests : BunitContext
{
    // Objects named the way the review (Grains/Dhcp/DhcpReview.cs) names them.
    private static readonly DhcpFindingView[] Review =
    [
        new("error", "subnet-overlap", "subnet 2 (192.0.2.128/25)", "overlaps subnet 1 (192.0.2.0/24)"),
        new("warning", "pool-exhausted", "pool 192.0.2.10 - 192.0.2.11 of subnet 1 (192.0.2.0/24)", "has 2 addresses and all are reserved"),
        new("warning", "reservation-in-pool", "reservation hw-address 1a:1b:1c:1d:1e:1f in subnet 1 (192.0.2.0/24)", "reserves 192.0.2.10 inside pool 192.0.2.10 - 192.0.2.11"),
        new("error", "option-value", "option routers of pool 192.0.2.10 - 192.0.2.11 of subnet 1 (192.0.2.0/24)", "'x' is not an IPv4 address"),
        new("error", "option-value", "option routers of subnet 12 (10.0.0.0/8)", "'x' is not an IPv4 address"),
        new("warning", "option-unknown", "option foo of client class printers", "is not a standard dhcp4 option"),
        new("warning", "option-unknown", "option foo of the global scope", "is not a standard dhcp4 option"),
        new("error", "shared-network-duplicate", "shared network lab", "is defined more than once"),
        new("warning", "hook-lease-cmds", "hooks-libraries", "does not load libdhcp_lease_cmds.so"),
    ];

    public DhcpComponentTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Fact]
    public void Findings_are_placed_beside_the_subnet_pool_reservation_class_or_shared_network_they_name_and_the_rest_listed_at_the_top()
    {
        var findings = new DhcpFindings(Review);
        Assert.Equal((4, 5), (findings.Errors, findings.Warnings));
        Assert.Equal(["pool-exhausted", "reservation-in-pool", "option-value"], findings.InSubnet(1).Select(f => f.Check));
        Assert.Empty(findings.OfSubnet(1)); // all of subnet 1's are about its pool and its reservation
        Assert.Equal(["subnet-overlap"], findings.OfSubnet(2).Select(f => f.Check));
        Assert.Equal(["option-value"], findings.OfSubnet(12).Select(f => f.Check)); // not subnet 1's, though "1" starts "12"
        Assert.Equal(["pool-exhausted", "option-value"], findings.OfPool(1, "192.0.2.10 - 192.0.2.11").Select(f => f.Check));
        Assert.Equal(["reservation-in-pool"], findings.OfReservation(1, "hw-address", "1a:1b:1c:1d:1e:1f").Select(f => f.Check));
        Assert.Empty(findings.OfReservation(1, "hw-address", "2a:2b:2c:2d:2e:2f"));
        Assert.Equal(["option-unknown"], findings.OfClass("printers").Select(f => f.Check));
        Assert.Equal(["shared-network-duplicate"], findings.OfSharedNetwork("lab").Select(f => f.Check));
        Assert.Equal(["option foo of the global scope"], findings.OfGlobalOptions().Select(f => f.Object));
        Assert.Equal(["hooks-libraries"], findings.Unplaced([1, 2, 12], ["printers"], ["lab"]).Select(f => f.Object));
        // A subnet the configuration does not list (the page shows one family) leaves its findings at the top.
        Assert.Contains(findings.Unplaced([1], ["printers"], ["lab"]), f => f.Object == "subnet 2 (192.0.2.128/25)");
        Assert.Equal("1 error, 2 warnings", DhcpFindings.Summary(findings.InSubnet(1)));
        Assert.Equal("no findings", DhcpFindings.Summary([]));
    }

    [Fact]
    public void A_finding_list_writes_the_severity_in_words_and_names_the_object_unless_it_sits_beside_it()
    {
        var list = Render<DhcpFindingList>(p => p.Add(l => l.Findings, Review[..2]));
        var items = list.FindAll("[data-testid=finding]");
        Assert.Equal(2, items.Count);
        Assert.StartsWith("Error:", items[0].TextContent.Trim(), StringComparison.Ordinal);
        Assert.Contains("subnet 2 (192.0.2.128/25)", items[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("ms-critical", items[0].QuerySelector("span")!.ClassList);
        Assert.StartsWith("Warning:", items[1].TextContent.Trim(), StringComparison.Ordinal);

        var beside = Render<DhcpFindingList>(p => p.Add(l => l.Findings, Review[..1]).Add(l => l.ShowObject, false));
        Assert.DoesNotContain("subnet 2 (192.0.2.128/25)", beside.Markup, StringComparison.Ordinal);
        Assert.Contains("overlaps subnet 1", beside.Markup, StringComparison.Ordinal);

        Assert.Empty(Render<DhcpFindingList>(p => p.Add(l => l.Findings, [])).Markup.Trim());
    }

    [Theory]
    [InlineData(42.26, "ok", "42.3 %", null)]
    [InlineData(85, "warning", "85 % (Warning)", "ms-warning")]
    [InlineData(95.5, "critical", "95.5 % (Critical)", "ms-critical")]
    public void Utilisation_is_a_percentage_with_its_level_in_words_and_colour(double value, string level, string text, string? css)
    {
        var cell = Render<UtilisationCell>(p => p.Add(c => c.Value, new DhcpSubnetUtilisationView("s", "n", 4, 1, "192.0.2.0/24", 200, 2 * value, 0, value, level, DateTimeOffset.UnixEpoch)));
        var span = cell.Find("[data-testid=utilisation]");
        Assert.Equal(text, span.TextContent);
        Assert.Equal(level, span.GetAttribute("data-level"));
        if (css is null)
        {
            Assert.Empty(span.ClassList);
        }
        else
        {
            Assert.Contains(css, span.ClassList);
        }

        Assert.Equal("—", Render<UtilisationCell>().Find("span").TextContent);
    }

    [Fact]
    public void A_push_shows_each_servers_result_with_its_reason_and_the_steps()
    {
        var operation = new OperationView(
            "op-1", "dhcp_push", "push", "failed", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(9), "admin",
            [new("s1", "failed", "Kea refused the configuration (config-test)"), new("s2", "skipped", "its standby failed")],
            [new(1, "pair", "s1", "push dhcp4", "dhcp_push", "required", "failed", "j1", "Kea refused"), new(2, "pair", "s2", "push dhcp4", "dhcp_push", "required", "skipped", null, null)],
            3);
        var result = Render<OperationResult>(p => p.Add(r => r.Operation, operation).Add(r => r.Names, new Dictionary<string, string> { ["s1"] = "dhcp-a" }));
        Assert.Equal("Failed", result.Find("[data-testid=operation-state]").TextContent);
        var rows = result.FindAll("[data-testid=operation-server]");
        Assert.Equal(2, rows.Count);
        Assert.Contains("dhcp-a", rows[0].TextContent, StringComparison.Ordinal); // by name when known
        Assert.Contains("Kea refused the configuration (config-test)", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("s2", rows[1].TextContent, StringComparison.Ordinal); // else by id
        Assert.Equal("Skipped", rows[1].QuerySelector("[data-testid=server-result]")!.TextContent);
        Assert.Equal(2, result.FindAll("[data-testid=operation-steps] li").Count);
        Assert.Contains("9", result.Markup, StringComparison.Ordinal); // finished at …:09
    }

    [Fact]
    public void A_reservations_client_is_named_as_the_api_and_as_kea_name_its_identifier()
    {
        Assert.Equal(("hw_address", "hw-address", "1a:1b:1c:1d:1e:1f"), ServerDhcp.Identifier(new DhcpReservationData { HwAddress = "1a:1b:1c:1d:1e:1f", IpAddress = "192.0.2.5" }));
        Assert.Equal(("duid", "duid", "01:02"), ServerDhcp.Identifier(new DhcpReservationData { Duid = "01:02" }));
        Assert.Equal(("client_id", "client-id", "01:0a"), ServerDhcp.Identifier(new DhcpReservationData { ClientId = "01:0a" }));
    }

    [Fact]
    public void Options_are_listed_by_name_or_code_or_the_empty_state_says_what_to_do()
    {
        var table = Render<OptionTable>(p => p.Add(t => t.Options, [new DhcpOptionData("routers", Data: "192.0.2.1"), new DhcpOptionData(Code: 252, Data: "0a0b", CsvFormat: false)]));
        var rows = table.FindAll("tbody tr");
        Assert.Contains("routers", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("252", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("0a0b (hex)", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Equal("Set some.", Render<OptionTable>(p => p.Add(t => t.Options, []).Add(t => t.Empty, "Set some.")).Find("[data-testid=no-options]").TextContent);
    }
}
