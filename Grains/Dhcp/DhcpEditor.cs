using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// Applies one <see cref="DhcpEdit"/> to a configuration. The edited configuration is reviewed: an edit that adds a
/// review error (an overlapping subnet, a pool outside its subnet, an address reserved twice, …) is refused with it,
/// so object-by-object editing keeps a configuration pushable; errors already there (from an import) do not block
/// unrelated edits. Warnings never refuse an edit (the push asks for them to be acknowledged).
/// </summary>
public static class DhcpEditor
{
    /// <summary>
    /// The configuration a server starts with when its first object is added: empty, with the hooks leases and per-subnet
    /// statistics need (<c>lease_cmds</c>, <c>stat_cmds</c>, from Kea's hooks directory).
    /// </summary>
    public static DhcpConfig NewConfig(DhcpFamily family) =>
        DhcpConfig.Empty(family) with { Hooks = [new DhcpHook(KeaHooks.LeaseCmds, null), new DhcpHook(KeaHooks.StatCmds, null)] };

    public static DhcpConfig Apply(DhcpConfig? current, DhcpFamily family, DhcpEdit edit)
    {
        var before = current ?? NewConfig(family);
        var after = edit switch
        {
            DhcpPutSubnet put => PutSubnet(before, put),
            DhcpRemoveSubnet remove => MapSubnet(before, remove.SubnetId, _ => null),
            DhcpAddPool add => MapSubnet(before, add.SubnetId, s => AddPool(s, add.Pool)),
            DhcpRemovePool remove => MapSubnet(before, remove.SubnetId, s => RemovePool(s, remove.Range)),
            DhcpPutReservation put when put.SubnetId is { } id => MapSubnet(before, id, s => s with { Reservations = PutReservation(s.Reservations, put.Reservation) }),
            DhcpPutReservation put => before with { Reservations = PutReservation(before.Reservations, put.Reservation) },
            DhcpRemoveReservation remove when remove.SubnetId is { } id =>
                MapSubnet(before, id, s => s with { Reservations = RemoveReservation(s.Reservations, remove, SubnetName(s)) }),
            DhcpRemoveReservation remove => before with { Reservations = RemoveReservation(before.Reservations, remove, "the global reservations") },
            DhcpSetOptions set when set.SubnetId is { } id => MapSubnet(before, id, s => s with { Options = set.Options }),
            DhcpSetOptions set => before with { Options = set.Options },
            DhcpSetHa set => before with { Ha = set.Ha },
            DhcpPutSharedNetwork put => PutSharedNetwork(before, put),
            DhcpRemoveSharedNetwork remove => RemoveSharedNetwork(before, remove.Name),
            DhcpPutClientClass put => PutClientClass(before, put),
            DhcpRemoveClientClass remove => RemoveClientClass(before, remove.Name),
            _ => throw new ArgumentOutOfRangeException(nameof(edit), edit, "unknown DHCP edit"),
        };

        var known = DhcpReview.Review(before).Where(f => f.Severity == DhcpSeverity.Error).ToHashSet();
        var added = DhcpReview.Review(after).Where(f => f.Severity == DhcpSeverity.Error && !known.Contains(f)).ToList();
        if (added.Count > 0)
        {
            throw new DhcpConfigException(string.Join("; ", added.Select(f => $"{f.Object} {f.Message}"))) { Field = FieldOf(added[0].Check) };
        }

        return after;
    }

    /// <summary>The request field an error of review check <paramref name="check"/> is about.</summary>
    public static string FieldOf(string check) => check switch
    {
        _ when check.StartsWith("pd-pool", StringComparison.Ordinal) => "pd_pools",
        _ when check.StartsWith("pool", StringComparison.Ordinal) => "pools",
        _ when check.StartsWith("reservation", StringComparison.Ordinal) => "reservations",
        _ when check.StartsWith("option", StringComparison.Ordinal) => "options",
        _ when check.StartsWith("ha-", StringComparison.Ordinal) => "peers",
        "subnet-id-duplicate" => "id",
        _ => "subnet",
    };

    public static string SubnetName(DhcpSubnet subnet) => $"subnet {subnet.Id} ({subnet.Prefix})";

    private static DhcpConfig PutSubnet(DhcpConfig config, DhcpPutSubnet put)
    {
        var existing = config.FindSubnet(put.Subnet.Id);
        if (put.Create)
        {
            if (existing is not null)
            {
                throw new ConflictException($"{SubnetName(existing)} already exists") { Field = "id" };
            }

            return config with { Subnets = config.Subnets.Add(put.Subnet) };
        }

        return MapSubnet(config, put.Subnet.Id, old => put.Subnet with { Extra = old.Extra });
    }

    /// <summary>Replaces (or, for null, removes) subnet <paramref name="id"/> where it is; throws when there is none.</summary>
    private static DhcpConfig MapSubnet(DhcpConfig config, long id, Func<DhcpSubnet, DhcpSubnet?> change)
    {
        static ImmutableArray<DhcpSubnet>? Map(ImmutableArray<DhcpSubnet> subnets, long id, Func<DhcpSubnet, DhcpSubnet?> change)
        {
            for (var i = 0; i < subnets.Length; i++)
            {
                if (subnets[i].Id == id)
                {
                    return change(subnets[i]) is { } changed ? subnets.SetItem(i, changed) : subnets.RemoveAt(i);
                }
            }

            return null;
        }

        if (Map(config.Subnets, id, change) is { } own)
        {
            return config with { Subnets = own };
        }

        for (var i = 0; i < config.SharedNetworks.Length; i++)
        {
            var network = config.SharedNetworks[i];
            if (Map(network.Subnets, id, change) is { } inNetwork)
            {
                return config with { SharedNetworks = config.SharedNetworks.SetItem(i, network with { Subnets = inNetwork }) };
            }
        }

        throw new NotFoundException($"there is no DHCPv{(int)config.Family} subnet with id {id}");
    }

    private static DhcpConfig PutSharedNetwork(DhcpConfig config, DhcpPutSharedNetwork put)
    {
        var index = config.SharedNetworks.IndexOf(config.SharedNetworks.FirstOrDefault(n => n.Name == put.Name)!);
        if (put.Create && index >= 0)
        {
            throw new ConflictException($"shared network {put.Name} already exists") { Field = "name" };
        }

        if (!put.Create && index < 0)
        {
            throw new NotFoundException($"there is no DHCPv{(int)config.Family} shared network {put.Name}");
        }

        // Its current subnets go back on their own first (a replace names all it keeps), then the named ones move in.
        var old = index >= 0 ? config.SharedNetworks[index] : null;
        var loose = config.Subnets.AddRange(old?.Subnets ?? []);
        var networks = config.SharedNetworks;
        var moving = new List<DhcpSubnet>();
        foreach (var id in put.SubnetIds.Distinct())
        {
            var subnet = loose.FirstOrDefault(s => s.Id == id);
            if (subnet is not null)
            {
                loose = loose.Remove(subnet);
            }
            else
            {
                var source = networks.FirstOrDefault(n => n.Name != put.Name && n.Subnets.Any(s => s.Id == id))
                    ?? throw new DhcpConfigException($"there is no DHCPv{(int)config.Family} subnet with id {id}") { Field = "subnets" };
                subnet = source.Subnets.First(s => s.Id == id);
                networks = networks.Replace(source, source with { Subnets = source.Subnets.Remove(subnet) });
            }

            moving.Add(subnet);
        }

        var network = new DhcpSharedNetwork(put.Name, put.Interface, put.Options, [.. moving], old?.Extra);
        var at = networks.IndexOf(networks.FirstOrDefault(n => n.Name == put.Name)!);
        return config with { Subnets = loose, SharedNetworks = at >= 0 ? networks.SetItem(at, network) : networks.Add(network) };
    }

    private static DhcpConfig RemoveSharedNetwork(DhcpConfig config, string name)
    {
        var network = config.SharedNetworks.FirstOrDefault(n => n.Name == name)
            ?? throw new NotFoundException($"there is no DHCPv{(int)config.Family} shared network {name}");
        return config with { Subnets = config.Subnets.AddRange(network.Subnets), SharedNetworks = config.SharedNetworks.Remove(network) };
    }

    private static DhcpConfig PutClientClass(DhcpConfig config, DhcpPutClientClass put)
    {
        var old = config.ClientClasses.FirstOrDefault(c => c.Name == put.Class.Name);
        return (put.Create, old) switch
        {
            (true, not null) => throw new ConflictException($"client class {put.Class.Name} already exists") { Field = "name" },
            (false, null) => throw new NotFoundException($"there is no DHCPv{(int)config.Family} client class {put.Class.Name}"),
            (_, null) => config with { ClientClasses = config.ClientClasses.Add(put.Class) },
            _ => config with { ClientClasses = config.ClientClasses.Replace(old, put.Class with { Extra = old.Extra }) },
        };
    }

    private static DhcpConfig RemoveClientClass(DhcpConfig config, string name)
    {
        var found = config.ClientClasses.FirstOrDefault(c => c.Name == name)
            ?? throw new NotFoundException($"there is no DHCPv{(int)config.Family} client class {name}");
        var user = config.EverySubnet().SelectMany(s =>
                new[] { s.ClientClass == name ? SubnetName(s) : null }
                    .Concat(s.Pools.Where(p => p.ClientClass == name).Select(p => $"pool {p.Range} of {SubnetName(s)}"))
                    .Concat(s.Reservations.Where(r => r.ClientClasses.Contains(name)).Select(r => $"reservation {r.IdentifierType} {r.Identifier} in {SubnetName(s)}")))
            .Concat(config.Reservations.Where(r => r.ClientClasses.Contains(name)).Select(r => $"global reservation {r.IdentifierType} {r.Identifier}"))
            .FirstOrDefault(u => u is not null);
        return user is not null
            ? throw new ConflictException($"client class {name} is used by {user}: change that first") { Field = "name" }
            : config with { ClientClasses = config.ClientClasses.Remove(found) };
    }

    private static string PoolKey(string range) => range.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private static DhcpSubnet AddPool(DhcpSubnet subnet, DhcpPool pool)
    {
        if (subnet.Pools.Any(p => PoolKey(p.Range) == PoolKey(pool.Range)))
        {
            throw new ConflictException($"{SubnetName(subnet)} already has pool {pool.Range}") { Field = "pool" };
        }

        return subnet with { Pools = subnet.Pools.Add(pool) };
    }

    private static DhcpSubnet RemovePool(DhcpSubnet subnet, string range)
    {
        var pool = subnet.Pools.FirstOrDefault(p => PoolKey(p.Range) == PoolKey(range))
            ?? throw new NotFoundException($"{SubnetName(subnet)} has no pool {range}");
        return subnet with { Pools = subnet.Pools.Remove(pool) };
    }

    private static bool SameClient(DhcpReservation r, string type, string identifier) =>
        r.IdentifierType == type && string.Equals(r.Identifier, identifier, StringComparison.OrdinalIgnoreCase);

    private static ImmutableArray<DhcpReservation> PutReservation(ImmutableArray<DhcpReservation> reservations, DhcpReservation reservation)
    {
        for (var i = 0; i < reservations.Length; i++)
        {
            if (SameClient(reservations[i], reservation.IdentifierType, reservation.Identifier))
            {
                return reservations.SetItem(i, reservation with { Extra = reservations[i].Extra });
            }
        }

        return reservations.Add(reservation);
    }

    private static ImmutableArray<DhcpReservation> RemoveReservation(ImmutableArray<DhcpReservation> reservations, DhcpRemoveReservation remove, string scope)
    {
        var found = reservations.FirstOrDefault(r => SameClient(r, remove.IdentifierType, remove.Identifier))
            ?? throw new NotFoundException($"{scope} has no reservation for {remove.IdentifierType} {remove.Identifier}");
        return reservations.Remove(found);
    }
}

/// <summary>The Kea hook libraries the product relies on, by the file names Debian's Kea ships.</summary>
public static class KeaHooks
{
    /// <summary>Lease listing, search and deletion (<c>lease4-get-page</c>, <c>lease4-del</c>, …).</summary>
    public const string LeaseCmds = "libdhcp_lease_cmds.so";

    /// <summary>Per-subnet lease statistics (<c>stat-lease4-get</c>, …).</summary>
    public const string StatCmds = "libdhcp_stat_cmds.so";

    /// <summary>High availability between two peers.</summary>
    public const string Ha = "libdhcp_ha.so";

    /// <summary>Whether <paramref name="library"/> (a path or a bare name) is <paramref name="hook"/>.</summary>
    public static bool Is(string library, string hook) => Path.GetFileName(library) == hook;
}
