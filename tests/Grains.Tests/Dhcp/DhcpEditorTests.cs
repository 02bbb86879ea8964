using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>
/// Object-by-object edits (<see cref="DhcpEditor"/>): what they change, the review errors that refuse them, errors already
/// in an imported configuration not blocking unrelated edits, and a configuration built only from edits being one Kea
/// accepts.
/// </summary>
public sealed class DhcpEditorTests
{
    private static DhcpSubnet Subnet(long id, string prefix, params string[] pools) =>
        new(id, prefix, [.. pools.Select(p => new DhcpPool(p, [], null, null))], [], [], [], null, null, null);

    private static DhcpReservation Mac(string mac, string address) => new("hw-address", mac, [address], [], null, [], [], null);

    [Fact]
    public void A_configuration_built_from_edits_has_the_hooks_leases_need_and_Kea_accepts_it()
    {
        var config = DhcpEditor.Apply(null, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "192.0.2.0/24", "192.0.2.10-192.0.2.200"), Create: true));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutReservation(1, Mac("1a:1b:1c:1d:1e:1f", "192.0.2.5")));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutReservation(null, Mac("2a:2b:2c:2d:2e:2f", "198.51.100.9")));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpSetOptions(1, [new DhcpOption("routers", null, null, "192.0.2.1", null, null, null)]));
        Assert.Equal([KeaHooks.LeaseCmds, KeaHooks.StatCmds], config.Hooks.Select(h => h.Library));

        // Kea 2.2 wants hook paths; the agent gives a bare name Kea's hooks directory, as here.
        var rendered = KeaRender.Render(config).Replace("\"libdhcp_", "\"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_", StringComparison.Ordinal);
        var (accepted, output) = Kea.Test(DhcpFamily.V4, rendered);
        Assert.True(accepted, output + "\n" + rendered);

        var v6 = DhcpEditor.Apply(null, DhcpFamily.V6, new DhcpPutSubnet(
            Subnet(7, "2001:db8:1::/64", "2001:db8:1::100-2001:db8:1::1ff") with { PdPools = [new DhcpPdPool("2001:db8:8::", 48, 56, null, null, [], null, null)] }, Create: true));
        v6 = DhcpEditor.Apply(v6, DhcpFamily.V6, new DhcpPutReservation(7, new DhcpReservation("duid", "01:02:03:04", ["2001:db8:1::5"], ["2001:db8:9::/56"], "pc", [], [], null)));
        (accepted, output) = Kea.Test(DhcpFamily.V6, KeaRender.Render(v6).Replace("\"libdhcp_", "\"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_", StringComparison.Ordinal));
        Assert.True(accepted, output);
    }

    [Fact]
    public void Shared_networks_and_client_classes_are_edited_one_at_a_time_and_Kea_accepts_the_result()
    {
        var config = DhcpEditor.Apply(null, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "192.0.2.0/24", "192.0.2.10-192.0.2.200"), Create: true));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSubnet(Subnet(2, "198.51.100.0/24", "198.51.100.10-198.51.100.20"), Create: true));
        var routers = new DhcpOption("routers", null, null, "192.0.2.1", null, null, null);

        // A network on one link takes both subnets; replaced with one, the other stands on its own again.
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSharedNetwork("campus", "lo", [routers], [1, 2], Create: true));
        Assert.Empty(config.Subnets);
        Assert.Equal([1L, 2L], config.SharedNetworks.Single().Subnets.Select(s => s.Id));
        Assert.Equal("shared network campus already exists", Assert.Throws<ConflictException>(() =>
            DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSharedNetwork("campus", null, [], [], Create: true))).Message);
        Assert.Equal("there is no DHCPv4 subnet with id 9", Assert.Throws<DhcpConfigException>(() =>
            DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSharedNetwork("lab", null, [], [9], Create: true))).Message);

        // A class, used by a pool: it cannot be removed while used; a replace keeps what an import kept verbatim.
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutClientClass(new DhcpClientClass("printers", "substring(option[60].hex,0,7) == 'printer'", [], null), Create: true));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSharedNetwork("campus", "lo", [routers], [2], Create: false));
        Assert.Equal([1L], config.Subnets.Select(s => s.Id));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "192.0.2.0/24") with { Pools = [new DhcpPool("192.0.2.10-192.0.2.200", [], "printers", null)] }, Create: false));
        var used = Assert.Throws<ConflictException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpRemoveClientClass("printers")));
        Assert.Equal("client class printers is used by pool 192.0.2.10-192.0.2.200 of subnet 1 (192.0.2.0/24): change that first", used.Message);

        var rendered = KeaRender.Render(config).Replace("\"libdhcp_", "\"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_", StringComparison.Ordinal);
        Assert.Contains("\"shared-networks\"", rendered, StringComparison.Ordinal);
        var (accepted, output) = Kea.Test(DhcpFamily.V4, rendered);
        Assert.True(accepted, output + "\n" + rendered);

        // Removing the network leaves its subnet; the class goes once nothing names it.
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpRemoveSharedNetwork("campus"));
        Assert.Equal([1L, 2L], config.Subnets.Select(s => s.Id));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "192.0.2.0/24", "192.0.2.10-192.0.2.200"), Create: false));
        Assert.Empty(DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpRemoveClientClass("printers")).ClientClasses);
    }

    [Fact]
    public void An_edit_that_adds_a_review_error_is_refused_naming_the_object_and_the_field()
    {
        var config = DhcpEditor.Apply(null, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "192.0.2.0/24", "192.0.2.10-192.0.2.200"), Create: true));

        var overlap = Assert.Throws<DhcpConfigException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSubnet(Subnet(2, "192.0.2.0/25"), Create: true)));
        Assert.Equal(("subnet", "subnet 2 (192.0.2.0/25) overlaps subnet 1 (192.0.2.0/24)"), (overlap.Field, overlap.Message));
        var outside = Assert.Throws<DhcpConfigException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutReservation(1, Mac("1a:1b:1c:1d:1e:1f", "10.0.0.1"))));
        Assert.Equal("reservations", outside.Field);
        var taken = Assert.Throws<ConflictException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutSubnet(Subnet(1, "198.51.100.0/24"), Create: true)));
        Assert.Equal("id", taken.Field);
        Assert.Throws<NotFoundException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpRemovePool(1, "192.0.2.1-192.0.2.2")));
        Assert.Throws<NotFoundException>(() => DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpAddPool(9, new DhcpPool("192.0.2.1-192.0.2.2", [], null, null))));

        // Pools are matched with or without spaces around the dash; the same client's reservation is replaced.
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpRemovePool(1, "192.0.2.10 - 192.0.2.200"));
        Assert.Empty(config.Subnets[0].Pools);
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutReservation(1, Mac("1a:1b:1c:1d:1e:1f", "192.0.2.5")));
        config = DhcpEditor.Apply(config, DhcpFamily.V4, new DhcpPutReservation(1, Mac("1A:1B:1C:1D:1E:1F", "192.0.2.6")));
        Assert.Equal("192.0.2.6", Assert.Single(Assert.Single(config.Subnets).Reservations).Addresses[0]);
    }

    [Fact]
    public void Errors_already_in_an_imported_configuration_do_not_block_unrelated_edits_and_verbatim_members_stay()
    {
        var (imported, _) = KeaImport.Parse("""
            { "Dhcp4": {
                "shared-networks": [ { "name": "floor1", "subnet4": [ { "id": 5, "subnet": "10.0.5.0/24", "relay": { "ip-addresses": [ "10.0.5.1" ] } } ] } ],
                "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24" }, { "id": 2, "subnet": "192.0.2.0/25" } ] } }
            """);
        Assert.Contains(DhcpReview.Review(imported), f => f.Check == "subnet-overlap");

        var edited = DhcpEditor.Apply(imported, DhcpFamily.V4, new DhcpPutSubnet(Subnet(5, "10.0.5.0/24", "10.0.5.10-10.0.5.99"), Create: false));
        var subnet = Assert.Single(Assert.Single(edited.SharedNetworks).Subnets);
        Assert.Equal("10.0.5.10-10.0.5.99", Assert.Single(subnet.Pools).Range);
        Assert.Contains("\"relay\"", KeaRender.Render(edited), StringComparison.Ordinal);

        edited = DhcpEditor.Apply(edited, DhcpFamily.V4, new DhcpRemoveSubnet(2));
        Assert.DoesNotContain(DhcpReview.Review(edited), f => f.Check == "subnet-overlap");
        Assert.Empty(DhcpEditor.Apply(edited, DhcpFamily.V4, new DhcpRemoveSubnet(5)).SharedNetworks[0].Subnets);
    }
}
