using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>
/// HA pairs in the model: each peer's document is rendered with its own <c>this-server-name</c> (the ha hook, lease_cmds
/// and multi-threading added) and Kea accepts both; the review's HA checks name what is wrong.
/// </summary>
public sealed class DhcpHaTests
{
    private static DhcpConfig Pair(string mode = "hot-standby", string secondRole = "standby", string url2 = "http://127.0.0.1:18002/", int heartbeat = 10_000) =>
        DhcpEditor.Apply(
            DhcpEditor.Apply(null, DhcpFamily.V4, new DhcpPutSubnet(new DhcpSubnet(1, "192.0.2.0/24", [new DhcpPool("192.0.2.10-192.0.2.100", [], null, null)], [], [], [], null, null, null), Create: true)),
            DhcpFamily.V4,
            new DhcpSetHa(new DhcpHa(mode, [new DhcpHaPeer("srv-a", "dhcp-a", "http://127.0.0.1:18001/", "primary"), new DhcpHaPeer("srv-b", "dhcp-b", url2, secondRole)], HeartbeatDelayMs: heartbeat)));

    [Fact]
    public void Each_peer_is_rendered_with_its_own_name_and_kea_accepts_both()
    {
        var config = Pair();
        foreach (var (server, name) in new[] { ("srv-a", "dhcp-a"), ("srv-b", "dhcp-b") })
        {
            var rendered = KeaRender.Render(config, server);
            Assert.Contains($"\"this-server-name\": \"{name}\"", rendered, StringComparison.Ordinal);
            Assert.Contains("\"library\": \"libdhcp_ha.so\"", rendered, StringComparison.Ordinal);
            Assert.Contains("\"enable-multi-threading\": true", rendered, StringComparison.Ordinal);
            Assert.DoesNotContain(DhcpReview.Review(config, server), f => f.Severity == DhcpSeverity.Error);
            var (accepted, output) = Kea.Test(DhcpFamily.V4, rendered.Replace("\"libdhcp_", "\"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_", StringComparison.Ordinal));
            Assert.True(accepted, output + "\n" + rendered);
        }

        // Rendered for a server that is not a peer, or without a server: no ha hook.
        Assert.DoesNotContain("libdhcp_ha.so", KeaRender.Render(config), StringComparison.Ordinal);
        Assert.Contains(DhcpReview.Review(config, "srv-c"), f => f.Check == "ha-this-server");
    }

    [Fact]
    public void The_review_names_what_is_wrong_with_a_pair()
    {
        Assert.Equal("peers", Assert.Throws<DhcpConfigException>(() => Pair(url2: "ftp://peer/")).Field);
        Assert.Contains("HA peer dhcp-b has URL 'ftp://peer/'", Assert.Throws<DhcpConfigException>(() => Pair(url2: "ftp://peer/")).Message, StringComparison.Ordinal);
        Assert.Contains("needs one primary and one standby", Assert.Throws<DhcpConfigException>(() => Pair(secondRole: "secondary")).Message, StringComparison.Ordinal);
        Assert.Contains("is given to two peers", Assert.Throws<DhcpConfigException>(() => Pair(url2: "http://127.0.0.1:18001/")).Message, StringComparison.Ordinal);
        Assert.Contains("not more than its heartbeat delay", Assert.Throws<DhcpConfigException>(() => Pair(heartbeat: 60_000)).Message, StringComparison.Ordinal);

        var balancing = Pair(mode: "load-balancing", secondRole: "secondary");
        Assert.Equal(2, DhcpReview.Review(balancing, "srv-a").Count(f => f.Check == "ha-load-balancing-classes"));
        var withHook = balancing with { Hooks = balancing.Hooks.Add(new DhcpHook("/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so", "{}")) };
        Assert.Contains(DhcpReview.Review(withHook, "srv-a"), f => f.Check == "ha-hook-duplicate");
    }
}
