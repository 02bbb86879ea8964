using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>
/// Kea configurations in and out: import makes model objects of what the model covers and keeps the rest verbatim;
/// render gives the same bytes for the same model (golden files); real Kea accepts the rendering of everything it
/// accepted before the import.
/// </summary>
public sealed class KeaImportRenderTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dhcp", "Fixtures", name));

    /// <summary>Every configuration there is to test against: ours (every model object) and the ones Debian ships.</summary>
    public static TheoryData<string> Configurations() => ["full4.json", "full6.json", "/etc/kea/kea-dhcp4.conf", "/etc/kea/kea-dhcp6.conf"];

    private static string Read(string name) => name.StartsWith('/') ? File.ReadAllText(name) : Fixture(name);

    [Theory]
    [MemberData(nameof(Configurations))]
    public void What_Kea_accepts_is_imported_rendered_and_accepted_again_and_a_second_round_changes_nothing(string name)
    {
        var original = Read(name);
        var (config, _) = KeaImport.Parse(original);
        var (accepted, why) = Kea.Test(config.Family, original);
        Assert.True(accepted, $"{name} itself: {why}");

        var rendered = KeaRender.Render(config);
        var (renderedAccepted, output) = Kea.Test(config.Family, rendered);
        Assert.True(renderedAccepted, $"Kea refused the rendering of {name}:\n{output}\n{rendered}");

        var again = KeaRender.Render(KeaImport.Parse(rendered).Config);
        Assert.Equal(rendered, again);
    }

    [Theory]
    [InlineData("full4.json", "full4.rendered.json")]
    [InlineData("full6.json", "full6.rendered.json")]
    public void Rendering_is_byte_for_byte_the_golden_file(string input, string golden)
    {
        var rendered = KeaRender.Render(KeaImport.Parse(Fixture(input)).Config);
        if (Environment.GetEnvironmentVariable("MANAGEDSERVERS_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(RepoRoot(), "tests", "Grains.Tests", "Dhcp", "Fixtures", golden), rendered);
        }

        Assert.Equal(Fixture(golden), rendered);
    }

    [Fact]
    public void The_v4_import_models_every_object_and_lists_what_it_kept_verbatim()
    {
        var (config, summary) = KeaImport.Parse(Fixture("full4.json"));

        Assert.Equal(DhcpFamily.V4, config.Family);
        Assert.Equal((4, 1, 5, 0, 5), (summary.Subnets, summary.SharedNetworks, summary.Pools, summary.PdPools, summary.Reservations));
        Assert.Equal((2, 2), (summary.OptionDefs, summary.ClientClasses));
        Assert.Equal(new DhcpTimers(4000, 1000, 2000, null), config.Timers);
        Assert.Equal(("memfile", false, 3600L), (config.LeaseDatabase!.Type, config.LeaseDatabase.Persist, config.LeaseDatabase.LfcInterval));
        Assert.Equal(2, config.Hooks.Length);

        var subnet = config.Subnets.Single(s => s.Id == 1);
        Assert.Equal(("192.0.2.0/24", "lo"), (subnet.Prefix, subnet.Interface));
        Assert.Equal(["192.0.2.10 - 192.0.2.200", "192.0.2.224/28"], subnet.Pools.Select(p => p.Range));
        Assert.Equal(["hw-address", "client-id", "duid", "circuit-id"], subnet.Reservations.Select(r => r.IdentifierType));
        Assert.Equal("special-snowflake", subnet.Reservations[1].Hostname);
        Assert.Equal(["voip"], subnet.Reservations[2].ClientClasses.ToArray());
        Assert.Equal(["10.1.1.202"], subnet.Reservations[2].Options.Select(o => o.Data));
        Assert.Equal([10L, 11L], config.SharedNetworks[0].Subnets.Select(s => s.Id));
        Assert.Equal("printers", config.SharedNetworks[0].Subnets[1].Pools[0].ClientClass);
        Assert.Equal(15, config.Options[1].Code);

        // What the model does not cover is kept, where it was, and listed.
        Assert.Contains("Dhcp4.interfaces-config", summary.Verbatim);
        Assert.Contains("Dhcp4.expired-leases-processing", summary.Verbatim);
        Assert.Contains("Dhcp4.loggers", summary.Verbatim);
        Assert.Contains("Dhcp4.lease-database.max-row-errors", summary.Verbatim);
        Assert.Contains("Dhcp4.subnet4[0].valid-lifetime", summary.Verbatim);
        Assert.Contains("Dhcp4.subnet4[0].reservations[3].next-server", summary.Verbatim);
        Assert.Contains("Dhcp4.shared-networks[0].relay", summary.Verbatim);
        Assert.Contains("Dhcp4.client-classes[0].next-server", summary.Verbatim);
        Assert.Contains("\"valid-lifetime\":600", subnet.Extra, StringComparison.Ordinal);
        Assert.Empty(summary.Notes);
    }

    [Fact]
    public void The_v6_import_models_prefix_delegation_and_multi_address_reservations()
    {
        var (config, summary) = KeaImport.Parse(Fixture("full6.json"));

        Assert.Equal(DhcpFamily.V6, config.Family);
        Assert.Equal(new DhcpTimers(4000, 1000, 2000, 3000), config.Timers);
        Assert.Equal((3, 2), (summary.Subnets, summary.PdPools));
        var subnet = config.Subnets.Single();
        var pd = subnet.PdPools[1];
        Assert.Equal(("2001:db8:9::", 48, 64, "2001:db8:9:0:8000::", 72), (pd.Prefix, pd.PrefixLength, pd.DelegatedLength, pd.ExcludedPrefix!, pd.ExcludedPrefixLength!.Value));
        Assert.Equal(["2001:db8:1::cafe:1"], subnet.Reservations[0].Addresses.ToArray());
        Assert.Equal(["2001:db8:2:abcd::/64"], subnet.Reservations[0].Prefixes.ToArray());
        Assert.Equal(["2001:db8:1::cafe:2", "2001:db8:1::cafe:3"], subnet.Reservations[1].Addresses.ToArray());
        Assert.Equal("duid", Assert.Single(config.Reservations).IdentifierType);
        Assert.Contains("Dhcp6.subnet6[0].rapid-commit", summary.Verbatim);
    }

    [Fact]
    public void Subnets_without_an_id_get_free_ids_and_the_summary_says_so()
    {
        var (config, summary) = KeaImport.Parse("""
            { "Dhcp4": { "subnet4": [
                { "subnet": "192.0.2.0/24" },
                { "id": 1, "subnet": "198.51.100.0/24" },
                { "subnet": "203.0.113.0/24" } ] } }
            """);

        Assert.Equal([2L, 1L, 3L], config.Subnets.Select(s => s.Id));
        Assert.Equal(["Dhcp4.subnet4[0] (192.0.2.0/24) had no id: it now has id 2", "Dhcp4.subnet4[2] (203.0.113.0/24) had no id: it now has id 3"], summary.Notes.ToArray());
    }

    [Theory]
    [InlineData("{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1 \"subnet\": \"192.0.2.0/24\" } ] } }", "line 1, column", "not valid JSON")]
    [InlineData("{ \"Dhcp4\": { \"subnet4\": { \"id\": 1 } } }", "Dhcp4.subnet4", "must be a list")]
    [InlineData("{ \"Dhcp4\": { \"subnet4\": [ { \"id\": \"one\", \"subnet\": \"192.0.2.0/24\" } ] } }", "Dhcp4.subnet4[0].id", "must be a whole number")]
    [InlineData("{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1 } ] } }", "Dhcp4.subnet4[0]", "has no \"subnet\"")]
    [InlineData("{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1, \"subnet\": \"192.0.2.0/24\", \"reservations\": [ { \"ip-address\": \"192.0.2.9\" } ] } ] } }", "Dhcp4.subnet4[0].reservations[0]", "names no client")]
    [InlineData("{ \"Dhcp4\": { \"reservations\": [ { \"hw-address\": \"01:02:03:04:05:06\", \"client-id\": \"01:02\" } ] } }", "Dhcp4.reservations[0]", "names its client twice (hw-address and client-id)")]
    [InlineData("{ \"Dhcp4\": { \"option-data\": [ { \"data\": \"1\" } ] } }", "Dhcp4.option-data[0]", "names no option")]
    [InlineData("{ \"Dhcp4\": {}, \"Dhcp6\": {} }", "the document", "has both Dhcp4 and Dhcp6")]
    [InlineData("{ \"Dhcp4\": {}, \"Logging\": {} }", "Logging", "is not part of a Dhcp4 configuration")]
    [InlineData("[ 1 ]", "the document", "must be a JSON object")]
    [InlineData("{ \"Dhcp4\": {\n <?include \"other.json\"?>\n } }", "line 2, column 2", "<?include?> is not supported")]
    public void Bad_documents_are_refused_naming_where(string text, string where, string problem)
    {
        var error = Assert.Throws<KeaConfigException>(() => KeaImport.Parse(text));
        Assert.StartsWith(where, error.Where, StringComparison.Ordinal);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Comments_of_every_kind_Kea_allows_are_skipped_but_not_inside_strings()
    {
        var (config, _) = KeaImport.Parse("""
            # hash
            { "Dhcp4": { // slashes
              /* a block
                 over lines */ "option-data": [ { "name": "domain-name", "data": "a#b//c/*d*/" } ] } }
            """);

        Assert.Equal("a#b//c/*d*/", config.Options[0].Data);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ManagedServers.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
