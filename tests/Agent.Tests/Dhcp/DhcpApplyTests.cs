using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Agent.Dhcp;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Tests.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Dhcp;

/// <summary>
/// <c>dhcp.apply</c> against a real Kea (exec runtime): a configuration goes live and is what Kea serves; the same one
/// again changes nothing; one Kea's <c>config-test</c> refuses changes nothing live; one that Kea takes but whose
/// health check fails (its DHCP socket cannot be opened) is rolled back to the previous version by itself; a document
/// that would load a foreign library or take over the control socket is refused or confined.
/// </summary>
public sealed class DhcpApplyTests
{
    private const string Interface = "lo";

    [Fact]
    public async Task A_kea4_configuration_goes_live_is_refused_rolls_back_and_stays_confined()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort(); // not 67: other tests may relay DHCP traffic there
        var installed = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec, Port: port), CancellationToken.None);
        Assert.Equal(ServiceStates.Running, installed.Service!.State);
        var handler = new DhcpApplyCommandHandler(host.Manager, TimeProvider.System);
        var layout = host.Manager.Engines.Layout(host.Manager.ServicesRoot, ServiceKinds.Dhcp4);

        // Version 1 goes live: Kea serves subnet 1 with its pool.
        var v1 = Document(interfaces: [], """{ "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ] }""");
        var (ok, error, output) = await ApplyAsync(handler, "d1", 1, v1);
        Assert.True(ok, error + "\n" + string.Join("\n", output!.Steps));
        Assert.Equal(("Live", 1, false), (output.Outcome, output.LiveVersion, output.RolledBack));
        Assert.Equal([1L], output.Subnets);
        Assert.Matches("^[0-9a-f]{64}$", output.ConfigHash!);
        Assert.Equal([(1L, "192.0.2.0/24")], await ServingAsync(layout));

        // The agent set its own paths: Kea answers on the service's socket, leases go to its data directory.
        var file = KeaDocuments.Parse(await File.ReadAllTextAsync(layout.ConfigFile));
        Assert.Equal(layout.ControlSocket, (string?)file["Dhcp4"]!["control-socket"]!["socket-name"]);
        Assert.StartsWith(layout.DataDirectory, (string?)file["Dhcp4"]!["lease-database"]!["name"], StringComparison.Ordinal);

        // The same again: already live, same hash.
        var again = await ApplyAsync(handler, "d2", 1, v1);
        Assert.True(again.Ok, again.Error);
        Assert.Equal(("AlreadyLive", output.ConfigHash), (again.Output!.Outcome, again.Output.ConfigHash));

        // Kea's config-test refuses a pool outside its subnet: nothing live changes.
        var bad = Document(interfaces: [], """{ "id": 2, "subnet": "198.51.100.0/24", "pools": [ { "pool": "203.0.113.10 - 203.0.113.20" } ] }""");
        var refused = await ApplyAsync(handler, "d3", 2, bad);
        Assert.False(refused.Ok);
        Assert.Contains("Kea refused the configuration (config-test)", refused.Error, StringComparison.Ordinal);
        Assert.Contains("203.0.113.10", refused.Error, StringComparison.Ordinal);
        Assert.Equal([(1L, "192.0.2.0/24")], await ServingAsync(layout));
        Assert.Equal(file.ToJsonString(), KeaDocuments.Parse(await File.ReadAllTextAsync(layout.ConfigFile)).ToJsonString());

        // Kea takes this one, but cannot open its DHCP socket (the port is held): the health check fails and the
        // agent rolls back to version 1 by itself.
        using (var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            holder.Bind(new IPEndPoint(IPAddress.Loopback, port));
            var unhealthy = Document(interfaces: [Interface], """{ "id": 3, "subnet": "127.0.0.0/8", "pools": [ { "pool": "127.0.0.10 - 127.0.0.20" } ] }""");
            var rolled = await ApplyAsync(handler, "d4", 3, unhealthy);
            Assert.False(rolled.Ok);
            Assert.Equal(("RolledBack", true), (rolled.Output!.Outcome, rolled.Output.RolledBack));
            Assert.Contains("Kea's DHCP sockets are failed", rolled.Error, StringComparison.Ordinal);
            Assert.EndsWith("rolled back to version 1", rolled.Error, StringComparison.Ordinal);
        }

        Assert.Equal([(1L, "192.0.2.0/24")], await ServingAsync(layout));
        Assert.Equal("1", await File.ReadAllTextAsync(KeaChange.AppliedVersionFile(layout)));

        // Confinement: a library from elsewhere is refused; a foreign control socket is replaced by the service's.
        var foreign = Document(interfaces: [], """{ "id": 1, "subnet": "192.0.2.0/24" }""", """ "hooks-libraries": [ { "library": "/tmp/evil.so" } ], """);
        var confined = await ApplyAsync(handler, "d5", 5, foreign);
        Assert.False(confined.Ok);
        Assert.Contains("Dhcp4.hooks-libraries[0]: /tmp/evil.so is not one of Kea's hooks", confined.Error, StringComparison.Ordinal);
        var socket = Document(interfaces: [], """{ "id": 7, "subnet": "192.0.2.0/24" }""", """ "control-socket": { "socket-type": "unix", "socket-name": "/tmp/other.sock" }, """);
        var moved = await ApplyAsync(handler, "d6", 6, socket);
        Assert.True(moved.Ok, moved.Error);
        Assert.Equal([(7L, "192.0.2.0/24")], await ServingAsync(layout));

        // A restart keeps serving what was applied, not the install's configuration; so does an update (re-deploy).
        await host.Manager.RestartAsync(ServiceKinds.Dhcp4, CancellationToken.None);
        Assert.Equal([(7L, "192.0.2.0/24")], await ServingAsync(layout));
        var updated = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec, Port: 10067), CancellationToken.None);
        Assert.Contains(updated.Steps, s => s.Contains("(applied version 6)", StringComparison.Ordinal));
        Assert.Equal([(7L, "192.0.2.0/24")], await ServingAsync(layout));

        // The service's interfaces and port: Kea serves lo on port 10067 whatever a pushed document's interfaces say.
        var served = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec, Port: 10067, Interfaces: [Interface]), CancellationToken.None);
        Assert.Equal("lo port 10067", served.Service!.Listen);
        var onLo = Document(interfaces: ["eth-ignored"], """{ "id": 8, "subnet": "127.0.0.0/8", "pools": [ { "pool": "127.0.0.10 - 127.0.0.20" } ] }""");
        var pushed = await ApplyAsync(handler, "d7", 7, onLo);
        Assert.True(pushed.Ok, pushed.Error + "\n" + string.Join("\n", pushed.Output?.Steps ?? []));
        var live = await KeaControl.SendAsync(layout.ControlSocket, "config-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("[\"lo\"]", live.Arguments!["Dhcp4"]!["interfaces-config"]!["interfaces"]!.ToJsonString());
        var status = await KeaControl.SendAsync(layout.ControlSocket, "status-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("ready", (string?)status.Arguments!["sockets"]!["status"]);
        Assert.Contains(File.ReadAllLines("/proc/net/udp").Skip(1), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == "0100007F:2753"); // 127.0.0.1:10067
    }

    [Fact]
    public async Task A_kea6_configuration_with_prefix_delegation_goes_live_and_one_kea_refuses_changes_nothing()
    {
        await using var host = new ServiceTestHost();
        var installed = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp6, RuntimeNames.Exec, Port: ServiceTestHost.FreePort()), CancellationToken.None);
        Assert.Equal(ServiceStates.Running, installed.Service!.State);
        var handler = new DhcpApplyCommandHandler(host.Manager, TimeProvider.System);
        var layout = host.Manager.Engines.Layout(host.Manager.ServicesRoot, ServiceKinds.Dhcp6);

        var v1 = """
            { "Dhcp6": { "interfaces-config": { "interfaces": [ ] }, "preferred-lifetime": 3000, "valid-lifetime": 4000,
              "subnet6": [ { "id": 1, "subnet": "2001:db8:1::/64", "pools": [ { "pool": "2001:db8:1::100 - 2001:db8:1::1ff" } ],
                             "pd-pools": [ { "prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 64 } ] } ] } }
            """;
        var (ok, error, output) = await ApplyAsync(handler, "s1", 1, v1, ServiceKinds.Dhcp6);
        Assert.True(ok, error + "\n" + string.Join("\n", output!.Steps));
        Assert.Equal(("Live", 1), (output.Outcome, output.LiveVersion));
        var live = await KeaControl.SendAsync(layout.ControlSocket, "config-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal([(1L, "2001:db8:1::/64")], KeaDocuments.Subnets((JsonObject)live.Arguments!).ToArray());
        Assert.Equal(layout.DataDirectory, (string?)live.Arguments!["Dhcp6"]!["data-directory"]);

        var refused = await ApplyAsync(handler, "s2", 2, v1.Replace("2001:db8:1::100", "2001:db8:99::100", StringComparison.Ordinal), ServiceKinds.Dhcp6);
        Assert.False(refused.Ok);
        Assert.Contains("Kea refused the configuration (config-test)", refused.Error, StringComparison.Ordinal);
        var after = await KeaControl.SendAsync(layout.ControlSocket, "config-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal([(1L, "2001:db8:1::/64")], KeaDocuments.Subnets((JsonObject)after.Arguments!).ToArray());
    }

    /// <summary>
    /// An HA pair of two real Keas on loopback (hot-standby; Kea 2.2's HA hook with its own HTTP listener, no control
    /// agent), each configured through the agent's apply (confined, tested, set, health-checked): both report the pair's
    /// state, and when the primary's service stops the standby takes over (partner-down). The control plane's model of
    /// pairs is not built yet; this proves the agent side and the Kea facts it relies on.
    /// </summary>
    [Fact]
    public async Task Two_keas_applied_as_an_ha_pair_report_their_state_and_the_standby_takes_over()
    {
        await using var primary = new ServiceTestHost();
        await using var standby = new ServiceTestHost();
        var (url1, url2) = ($"http://127.0.0.1:{ServiceTestHost.FreePort()}/", $"http://127.0.0.1:{ServiceTestHost.FreePort()}/");
        string Pair(string self) => $$"""
            { "Dhcp4": {
                "interfaces-config": { "interfaces": [ ], "dhcp-socket-type": "udp" },
                "lease-database": { "type": "memfile", "persist": false },
                "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 16 },
                "hooks-libraries": [
                    { "library": "libdhcp_lease_cmds.so" },
                    { "library": "libdhcp_ha.so", "parameters": { "high-availability": [ {
                        "this-server-name": "{{self}}", "mode": "hot-standby",
                        "heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000, "max-unacked-clients": 0,
                        "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true, "http-listener-threads": 1, "http-client-threads": 1 },
                        "peers": [ { "name": "server1", "url": "{{url1}}", "role": "primary" }, { "name": "server2", "url": "{{url2}}", "role": "standby" } ] } ] } } ],
                "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ] } ] } }
            """;

        var layouts = new List<ManagedServers.Agent.Services.ServiceLayout>();
        foreach (var (host, self) in new[] { (standby, "server2"), (primary, "server1") }) // the standby first, as a pair push will
        {
            var installed = await host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec, Port: ServiceTestHost.FreePort()), CancellationToken.None);
            Assert.Equal(ServiceStates.Running, installed.Service!.State);
            var (ok, error, output) = await ApplyAsync(new DhcpApplyCommandHandler(host.Manager, TimeProvider.System), "ha-" + self, 1, Pair(self));
            Assert.True(ok, error + "\n" + string.Join("\n", output?.Steps ?? []));
            layouts.Add(host.Manager.Engines.Layout(host.Manager.ServicesRoot, ServiceKinds.Dhcp4));
        }

        var (standbyLayout, primaryLayout) = (layouts[0], layouts[1]);
        Assert.Equal("hot-standby", await HaStateEventuallyAsync(primaryLayout, "hot-standby"));
        Assert.Equal("hot-standby", await HaStateEventuallyAsync(standbyLayout, "hot-standby"));

        // The agent's dhcp.status reports each peer's role and state, and its partner's.
        var primaryStatus = await StatusAsync(primary);
        Assert.Equal((true, "hot-standby", "primary", "hot-standby", true), (primaryStatus.SocketsReady, primaryStatus.HaMode, primaryStatus.HaRole, primaryStatus.HaState, primaryStatus.PartnerInTouch));
        Assert.NotNull(primaryStatus.PartnerState); // the partner's state as last heard (it may lag a heartbeat behind)
        Assert.Equal(("standby", "hot-standby"), ((await StatusAsync(standby)).HaRole, (await StatusAsync(standby)).HaState));

        await primary.Manager.StopAsync(ServiceKinds.Dhcp4, CancellationToken.None);
        Assert.Equal("partner-down", await HaStateEventuallyAsync(standbyLayout, "partner-down"));
        var down = await StatusAsync(standby);
        Assert.Equal(("partner-down", false), (down.HaState, down.PartnerInTouch));
    }

    private static async Task<DhcpStatusOutput> StatusAsync(ServiceTestHost host)
    {
        var handler = new DhcpStatusCommandHandler(host.Manager, TimeProvider.System);
        var args = JsonSerializer.SerializeToElement(new DhcpStatusArgs(ServiceKinds.Dhcp4), ContractsJson.Default.DhcpStatusArgs);
        var result = await handler.ExecuteAsync(new AgentCommand("st-" + Guid.NewGuid().ToString("N")[..6], CommandKinds.DhcpStatus, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), args), CancellationToken.None);
        Assert.True(result.Success, result.Error);
        return result.Output!.Value.Deserialize(ContractsJson.Default.DhcpStatusOutput)!;
    }

    /// <summary>The local HA state Kea's <c>status-get</c> reports, polled until it is <paramref name="wanted"/> (30 s at most).</summary>
    private static async Task<string?> HaStateEventuallyAsync(ManagedServers.Agent.Services.ServiceLayout layout, string wanted)
    {
        string? state = null;
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(500))
        {
            var status = await KeaControl.SendAsync(layout.ControlSocket, "status-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
            state = (string?)status.Arguments?["high-availability"]?[0]?["ha-servers"]?["local"]?["state"];
            if (state == wanted)
            {
                break;
            }
        }

        return state;
    }

    private static string Document(string[] interfaces, string subnet, string extra = "") => $$"""
        { "Dhcp4": { {{extra}}
            "interfaces-config": { "interfaces": [ {{string.Join(", ", interfaces.Select(i => $"\"{i}\""))}} ], "dhcp-socket-type": "udp" },
            "lease-database": { "type": "memfile", "persist": false },
            "valid-lifetime": 4000,
            "subnet4": [ {{subnet}} ] } }
        """;

    private static async Task<(bool Ok, string? Error, DhcpApplyOutput? Output)> ApplyAsync(DhcpApplyCommandHandler handler, string id, int version, string document, string service = ServiceKinds.Dhcp4)
    {
        var args = JsonSerializer.SerializeToElement(new DhcpApplyArgs(service, version, document), ContractsJson.Default.DhcpApplyArgs);
        var result = await handler.ExecuteAsync(new AgentCommand(id, CommandKinds.DhcpApply, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), args), CancellationToken.None);
        return (result.Success, result.Error, result.Output?.Deserialize(ContractsJson.Default.DhcpApplyOutput));
    }

    /// <summary>The subnets the running Kea reports (<c>config-get</c>).</summary>
    private static async Task<(long, string)[]> ServingAsync(ManagedServers.Agent.Services.ServiceLayout layout)
    {
        var answer = await KeaControl.SendAsync(layout.ControlSocket, "config-get", null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(answer.Ok, answer.Message);
        return [.. KeaDocuments.Subnets((JsonObject)answer.Arguments!).OrderBy(s => s.Id)];
    }
}
