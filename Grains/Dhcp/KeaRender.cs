using System.Text.Json.Nodes;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// Renders a <see cref="DhcpConfig"/> as the Kea configuration document a push sends (<c>{"Dhcp4": …}</c>), byte for
/// byte the same for the same model. Each object is written as: its identifying members, then what was kept verbatim
/// (in the order it came), then its lists; empty lists and unset values are left out (Kea's defaults apply).
/// </summary>
public static class KeaRender
{
    /// <summary>
    /// The document for server <paramref name="serverId"/>: a member of an HA pair gets the <c>ha</c> hook with its own
    /// <c>this-server-name</c> (and <c>lease_cmds</c>, which HA needs, and multi-threading, which gives the HA hook its own
    /// HTTP listener so no control agent is needed).
    /// </summary>
    public static string Render(DhcpConfig config, string? serverId = null) => KeaJson.Write(Document(config, serverId));

    public static JsonObject Document(DhcpConfig config, string? serverId = null)
    {
        var v6 = config.Family == DhcpFamily.V6;
        var root = new JsonObject();
        Merge(root, config.Extra);
        Set(root, "valid-lifetime", config.Timers.ValidLifetime);
        Set(root, "renew-timer", config.Timers.RenewTimer);
        Set(root, "rebind-timer", config.Timers.RebindTimer);
        Set(root, "preferred-lifetime", config.Timers.PreferredLifetime);
        if (config.LeaseDatabase is { } db)
        {
            var lease = new JsonObject { ["type"] = db.Type };
            Set(lease, "name", db.Name);
            Set(lease, "persist", db.Persist);
            Set(lease, "lfc-interval", db.LfcInterval);
            Merge(lease, db.Extra);
            root["lease-database"] = lease;
        }

        var hooks = config.Hooks;
        if (config.Ha is { } ha && ha.Peers.FirstOrDefault(p => p.ServerId == serverId) is { } self)
        {
            if (!hooks.Any(h => KeaHooks.Is(h.Library, KeaHooks.LeaseCmds)))
            {
                hooks = hooks.Add(new DhcpHook(KeaHooks.LeaseCmds, null));
            }

            hooks = hooks.Add(new DhcpHook(KeaHooks.Ha, HaParameters(ha, self.Name).ToJsonString()));
            if (!root.ContainsKey("multi-threading"))
            {
                root["multi-threading"] = new JsonObject { ["enable-multi-threading"] = true, ["thread-pool-size"] = 2, ["packet-queue-size"] = 16 };
            }
        }

        List(root, "hooks-libraries", hooks, Hook);
        List(root, "option-def", config.OptionDefs, OptionDef);
        List(root, "option-data", config.Options, Option);
        List(root, "client-classes", config.ClientClasses, ClientClass);
        List(root, "reservations", config.Reservations, r => Reservation(r, v6));
        List(root, "shared-networks", config.SharedNetworks, n => SharedNetwork(n, v6));
        List(root, v6 ? "subnet6" : "subnet4", config.Subnets, s => Subnet(s, v6));
        return new JsonObject { [v6 ? "Dhcp6" : "Dhcp4"] = root };
    }

    private static JsonObject HaParameters(DhcpHa ha, string self)
    {
        var peers = new JsonArray();
        foreach (var peer in ha.Peers)
        {
            peers.Add(new JsonObject { ["name"] = peer.Name, ["url"] = peer.Url, ["role"] = peer.Role, ["auto-failover"] = peer.AutoFailover });
        }

        var relationship = new JsonObject
        {
            ["this-server-name"] = self,
            ["mode"] = ha.Mode,
            ["heartbeat-delay"] = ha.HeartbeatDelayMs,
            ["max-response-delay"] = ha.MaxResponseDelayMs,
            ["max-ack-delay"] = ha.MaxAckDelayMs,
            ["max-unacked-clients"] = ha.MaxUnackedClients,
            ["multi-threading"] = new JsonObject { ["enable-multi-threading"] = true, ["http-dedicated-listener"] = true, ["http-listener-threads"] = 1, ["http-client-threads"] = 1 },
            ["peers"] = peers,
        };
        return new JsonObject { ["high-availability"] = new JsonArray(relationship) };
    }

    private static JsonObject Hook(DhcpHook hook)
    {
        var json = new JsonObject { ["library"] = hook.Library };
        if (hook.Parameters is { } parameters)
        {
            json["parameters"] = JsonNode.Parse(parameters);
        }

        return json;
    }

    private static JsonObject OptionDef(DhcpOptionDef def)
    {
        var json = new JsonObject { ["name"] = def.Name, ["code"] = def.Code, ["type"] = def.Type };
        Set(json, "space", def.Space);
        Set(json, "array", def.Array);
        Set(json, "record-types", def.RecordTypes);
        Set(json, "encapsulate", def.Encapsulate);
        Merge(json, def.Extra);
        return json;
    }

    private static JsonObject Option(DhcpOption option)
    {
        var json = new JsonObject();
        Set(json, "name", option.Name);
        Set(json, "code", option.Code);
        Set(json, "space", option.Space);
        Set(json, "csv-format", option.CsvFormat);
        Set(json, "always-send", option.AlwaysSend);
        Set(json, "data", option.Data);
        Merge(json, option.Extra);
        return json;
    }

    private static JsonObject ClientClass(DhcpClientClass cls)
    {
        var json = new JsonObject { ["name"] = cls.Name };
        Set(json, "test", cls.Test);
        Merge(json, cls.Extra);
        List(json, "option-data", cls.Options, Option);
        return json;
    }

    private static JsonObject SharedNetwork(DhcpSharedNetwork network, bool v6)
    {
        var json = new JsonObject { ["name"] = network.Name };
        Set(json, "interface", network.Interface);
        Merge(json, network.Extra);
        List(json, "option-data", network.Options, Option);
        List(json, v6 ? "subnet6" : "subnet4", network.Subnets, s => Subnet(s, v6));
        return json;
    }

    private static JsonObject Subnet(DhcpSubnet subnet, bool v6)
    {
        var json = new JsonObject { ["id"] = subnet.Id, ["subnet"] = subnet.Prefix };
        Set(json, "interface", subnet.Interface);
        Set(json, "client-class", subnet.ClientClass);
        Merge(json, subnet.Extra);
        List(json, "option-data", subnet.Options, Option);
        List(json, "pools", subnet.Pools, Pool);
        List(json, "pd-pools", subnet.PdPools, PdPool);
        List(json, "reservations", subnet.Reservations, r => Reservation(r, v6));
        return json;
    }

    private static JsonObject Pool(DhcpPool pool)
    {
        var json = new JsonObject { ["pool"] = pool.Range };
        Set(json, "client-class", pool.ClientClass);
        Merge(json, pool.Extra);
        List(json, "option-data", pool.Options, Option);
        return json;
    }

    private static JsonObject PdPool(DhcpPdPool pool)
    {
        var json = new JsonObject { ["prefix"] = pool.Prefix, ["prefix-len"] = pool.PrefixLength, ["delegated-len"] = pool.DelegatedLength };
        Set(json, "excluded-prefix", pool.ExcludedPrefix);
        Set(json, "excluded-prefix-len", pool.ExcludedPrefixLength);
        Set(json, "client-class", pool.ClientClass);
        Merge(json, pool.Extra);
        List(json, "option-data", pool.Options, Option);
        return json;
    }

    private static JsonObject Reservation(DhcpReservation reservation, bool v6)
    {
        var json = new JsonObject { [reservation.IdentifierType] = reservation.Identifier };
        if (v6)
        {
            Strings(json, "ip-addresses", reservation.Addresses);
            Strings(json, "prefixes", reservation.Prefixes);
        }
        else if (reservation.Addresses.Length > 0)
        {
            json["ip-address"] = reservation.Addresses[0];
        }

        Set(json, "hostname", reservation.Hostname);
        Strings(json, "client-classes", reservation.ClientClasses);
        Merge(json, reservation.Extra);
        List(json, "option-data", reservation.Options, Option);
        return json;
    }

    private static void Set(JsonObject json, string key, string? value)
    {
        if (value is not null)
        {
            json[key] = value;
        }
    }

    private static void Set(JsonObject json, string key, long? value)
    {
        if (value is { } v)
        {
            json[key] = v;
        }
    }

    private static void Set(JsonObject json, string key, bool? value)
    {
        if (value is { } v)
        {
            json[key] = v;
        }
    }

    private static void Strings(JsonObject json, string key, ImmutableArray<string> values)
    {
        if (!values.IsDefaultOrEmpty)
        {
            json[key] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
        }
    }

    private static void List<T>(JsonObject json, string key, ImmutableArray<T> items, Func<T, JsonObject> render)
    {
        if (!items.IsDefaultOrEmpty)
        {
            json[key] = new JsonArray([.. items.Select(i => (JsonNode)render(i))]);
        }
    }

    /// <summary>Adds the members kept verbatim, in their order.</summary>
    private static void Merge(JsonObject json, string? extra)
    {
        if (extra is null)
        {
            return;
        }

        foreach (var (key, value) in (JsonObject)JsonNode.Parse(extra)!)
        {
            json[key] = value?.DeepClone();
        }
    }
}
