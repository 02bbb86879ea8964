using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>Each review check with a configuration that triggers it, and the message naming the object.</summary>
public sealed class DhcpReviewTests
{
    private static IReadOnlyList<DhcpFinding> Review(string subnets, string family = "4", string extra = "") =>
        DhcpReview.Review(KeaImport.Parse($$"""{ "Dhcp{{family}}": { {{extra}} "subnet{{family}}": [ {{subnets}} ] } }""").Config);

    [Theory]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24" }, { "id": 1, "subnet": "198.51.100.0/24" }""", "subnet-id-duplicate", "subnet id 1", "is used by 192.0.2.0/24 and 198.51.100.0/24")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24" }, { "id": 2, "subnet": "192.0.2.128/25" }""", "subnet-overlap", "subnet 2 (192.0.2.128/25)", "overlaps subnet 1 (192.0.2.0/24)")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/33" }""", "subnet-prefix", "subnet 1 (192.0.2.0/33)", "is not an IPv4 prefix")]
    [InlineData("""{ "id": 1, "subnet": "2001:db8::/64" }""", "subnet-prefix", "subnet 1 (2001:db8::/64)", "is not an IPv4 prefix")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.3.5" } ] }""", "pool-outside-subnet", "pool 192.0.2.10 - 192.0.3.5 of subnet 1 (192.0.2.0/24)", "is not inside 192.0.2.0/24")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.20 - 192.0.2.10" } ] }""", "pool-range", "pool 192.0.2.20 - 192.0.2.10 of subnet 1 (192.0.2.0/24)", "is not an IPv4 range")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" }, { "pool": "192.0.2.64/26" } ] }""", "pool-overlap", "pool 192.0.2.64/26 of subnet 1 (192.0.2.0/24)", "overlaps pool 192.0.2.10 - 192.0.2.100")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "10.0.0.5" } ] }""", "reservation-outside-subnet", "reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", "reserves 10.0.0.5, which is not inside the subnet")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.300" } ] }""", "reservation-address", "reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", "reserves '192.0.2.300', which is not an IPv4 address")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.5" }, { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.6" } ] }""", "reservation-client-duplicate", "reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", "is made twice for this hw-address")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.5" }, { "client-id": "01:aa", "ip-address": "192.0.2.5" } ] }""", "reservation-address-duplicate", "reservation client-id 01:aa in subnet 1 (192.0.2.0/24)", "reserves 192.0.2.5, already reserved for hw-address 01:02:03:04:05:06")]
    public void Errors_name_the_object(string subnets, string check, string name, string message) =>
        AssertFinding(Review(subnets), DhcpSeverity.Error, check, name, message);

    [Theory]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ], "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.50" } ] }""", "reservation-in-pool", "reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", "reserves 192.0.2.50 inside pool 192.0.2.10 - 192.0.2.100")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.11" } ], "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.10" }, { "hw-address": "01:02:03:04:05:07", "ip-address": "192.0.2.11" } ] }""", "pool-exhausted", "pool 192.0.2.10 - 192.0.2.11 of subnet 1 (192.0.2.0/24)", "has 2 addresses and all are reserved")]
    [InlineData("""{ "id": 1, "subnet": "192.0.2.0/24", "client-class": "guests" }""", "class-undefined", "subnet 1 (192.0.2.0/24)", "names client class 'guests', which is not defined here")]
    public void Warnings_name_the_object(string subnets, string check, string name, string message) =>
        AssertFinding(Review(subnets), DhcpSeverity.Warning, check, name, message);

    [Fact]
    public void Prefix_delegation_pools_are_checked_in_v6()
    {
        var findings = Review(
            """
            { "id": 1, "subnet": "2001:db8:1::/64", "pd-pools": [
                { "prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 64 },
                { "prefix": "2001:db8:8:80::", "prefix-len": 57, "delegated-len": 64 },
                { "prefix": "2001:db8:9::", "prefix-len": 56, "delegated-len": 48 } ] }
            """,
            family: "6");

        AssertFinding(findings, DhcpSeverity.Error, "pd-pool-overlap", "pd-pool 2001:db8:8:80::/57 of subnet 1 (2001:db8:1::/64)", "overlaps pd-pool 2001:db8:8::/56");
        AssertFinding(findings, DhcpSeverity.Error, "pd-pool-delegated-len", "pd-pool 2001:db8:9::/56 of subnet 1 (2001:db8:1::/64)", "delegates /48: it must be between /56 and /128");
    }

    [Fact]
    public void Duplicate_names_of_classes_shared_networks_and_option_definitions_are_errors()
    {
        var findings = Review(
            "",
            extra: """
                "client-classes": [ { "name": "a" }, { "name": "a" } ],
                "shared-networks": [ { "name": "n" }, { "name": "n" } ],
                "option-def": [ { "name": "x", "code": 200, "type": "string" }, { "name": "y", "code": 200, "type": "string" } ],
                """);

        AssertFinding(findings, DhcpSeverity.Error, "class-duplicate", "client class a", "is defined more than once");
        AssertFinding(findings, DhcpSeverity.Error, "shared-network-duplicate", "shared network n", "is defined more than once");
        AssertFinding(findings, DhcpSeverity.Error, "option-def-duplicate", "option definition dhcp code 200", "is defined more than once");
    }

    [Theory]
    [InlineData("full4.json")]
    [InlineData("full6.json")]
    public void Our_full_configurations_pass_review_without_errors(string name)
    {
        var config = KeaImport.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dhcp", "Fixtures", name))).Config;
        Assert.DoesNotContain(DhcpReview.Review(config), f => f.Severity == DhcpSeverity.Error || f.Check == "option-unknown");
    }

    /// <summary>The example configurations Debian ships with Kea (Kea accepts them): no option name unknown, no value refused.</summary>
    [Fact]
    public void The_option_checks_know_every_option_of_the_example_configurations_kea_ships()
    {
        var files = Directory.GetFiles("/etc/kea", "kea-dhcp*.conf");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var config = KeaImport.Parse(File.ReadAllText(file)).Config;
            Assert.True(config.Options.Length + config.EverySubnet().Sum(s => s.Options.Length) > 0, $"{file} sets no option: the test proves nothing with it");
            var findings = DhcpReview.Review(config).Where(f => f.Check.StartsWith("option-", StringComparison.Ordinal)).ToList();
            Assert.True(findings.Count == 0, file + ":\n" + string.Join("\n", findings));
        }
    }

    [Fact]
    public void Option_values_of_known_options_are_checked_and_unknown_names_and_a_missing_lease_cmds_are_warnings()
    {
        var findings = Review(
            """
            { "id": 1, "subnet": "192.0.2.0/24", "option-data": [
                { "name": "routers", "data": "192.0.2.1, 192.0.2.300" },
                { "name": "interface-mtu", "data": "70000" },
                { "name": "ip-forwarding", "data": "maybe" },
                { "name": "no-such-option", "data": "1" },
                { "name": "my-option", "data": "anything" },
                { "name": "domain-name-servers", "data": "0a:0b", "csv-format": false },
                { "code": 250, "data": "whatever" } ] }
            """,
            extra: """ "option-def": [ { "name": "my-option", "code": 250, "type": "string" } ], """);

        AssertFinding(findings, DhcpSeverity.Error, "option-value", "option routers of subnet 1 (192.0.2.0/24)", "'192.0.2.300' is not an IPv4 address");
        AssertFinding(findings, DhcpSeverity.Error, "option-value", "option interface-mtu of subnet 1 (192.0.2.0/24)", "'70000' is not a number from 0 to 65535");
        AssertFinding(findings, DhcpSeverity.Error, "option-value", "option ip-forwarding of subnet 1 (192.0.2.0/24)", "'maybe' is not true or false");
        AssertFinding(findings, DhcpSeverity.Warning, "option-unknown", "option no-such-option of subnet 1 (192.0.2.0/24)", "no option-def here defines it");
        AssertFinding(findings, DhcpSeverity.Warning, "hook-lease-cmds", "hooks-libraries", "does not load libdhcp_lease_cmds.so");
        Assert.Equal(4, findings.Count(f => f.Check.StartsWith("option-", StringComparison.Ordinal)));

        var v6 = Review("""{ "id": 1, "subnet": "2001:db8::/64", "option-data": [ { "name": "dns-servers", "data": "192.0.2.1" } ] }""", family: "6",
            extra: """ "hooks-libraries": [ { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" } ], """);
        AssertFinding(v6, DhcpSeverity.Error, "option-value", "option dns-servers of subnet 1 (2001:db8::/64)", "'192.0.2.1' is not an IPv6 address");
        Assert.DoesNotContain(v6, f => f.Check == "hook-lease-cmds");
    }

    [Fact]
    public void Subnets_in_shared_networks_take_part_in_the_overlap_and_id_checks()
    {
        var findings = Review(
            """{ "id": 5, "subnet": "10.0.0.0/8" }""",
            extra: """ "shared-networks": [ { "name": "n", "subnet4": [ { "id": 5, "subnet": "10.1.0.0/16" } ] } ], """);

        AssertFinding(findings, DhcpSeverity.Error, "subnet-id-duplicate", "subnet id 5", "is used by 10.0.0.0/8 and 10.1.0.0/16");
        AssertFinding(findings, DhcpSeverity.Error, "subnet-overlap", "subnet 5 (10.1.0.0/16)", "overlaps subnet 5 (10.0.0.0/8)");
    }

    private static void AssertFinding(IReadOnlyList<DhcpFinding> findings, DhcpSeverity severity, string check, string name, string message)
    {
        var all = string.Join("\n", findings.Select(f => $"{f.Severity} {f.Check} [{f.Object}] {f.Message}"));
        Assert.True(
            findings.Any(f => f.Severity == severity && f.Check == check && f.Object == name && f.Message.Contains(message, StringComparison.Ordinal)),
            $"expected {severity} {check} [{name}] {message}; found:\n{all}");
    }
}
