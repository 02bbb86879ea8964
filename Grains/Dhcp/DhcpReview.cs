using System.Net.Sockets;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// The review a DHCP configuration passes before any push: each finding names the object (<c>subnet 1
/// (192.0.2.0/24)</c>, <c>pool … of subnet …</c>, <c>reservation hw-address … in subnet …</c>) and says what is wrong.
/// Errors (a push is refused): malformed or wrong-family prefixes, pools and addresses; duplicate subnet ids; overlapping
/// subnets, pools or prefix-delegation pools; pools or reservations outside their subnet; a client reserved twice, or an
/// address reserved for two clients, in one scope; duplicate names of shared networks, classes and option definitions.
/// Warnings (shown, can be acknowledged): reservations inside a pool, pools every address of which is reserved, client
/// classes named but not defined. Linear in the size of the configuration after one sort of the subnets.
/// </summary>
public static class DhcpReview
{
    /// <summary>Classes Kea (or its hooks) assigns itself: naming them without defining them is fine.</summary>
    private static readonly string[] BuiltInClasses = ["ALL", "KNOWN", "UNKNOWN", "BOOTP", "DROP"];

    private static readonly string[] BuiltInClassPrefixes = ["VENDOR_CLASS_", "HA_", "SPAWN_", "AFTER_", "EXTERNAL_"];

    /// <summary>The findings on <paramref name="config"/>; <paramref name="serverId"/>: the server it is rendered for (HA checks it is a peer).</summary>
    public static IReadOnlyList<DhcpFinding> Review(DhcpConfig config, string? serverId = null)
    {
        var review = new Reviewer(config, serverId);
        review.Run();
        return review.Findings;
    }

    private sealed class Reviewer(DhcpConfig config, string? serverId)
    {
        private readonly AddressFamily _family = config.Family == DhcpFamily.V4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        private const string DefaultSpace = "dhcp";

        private string Space => config.Family == DhcpFamily.V4 ? "dhcp4" : "dhcp6";
        private readonly HashSet<string> _classes = new(config.ClientClasses.Select(c => c.Name), StringComparer.Ordinal);

        public List<DhcpFinding> Findings { get; } = [];

        private string Ip => config.Family == DhcpFamily.V4 ? "IPv4" : "IPv6";

        public void Run()
        {
            Duplicates(config.ClientClasses.Select(c => c.Name), "class-duplicate", n => $"client class {n}", "is defined more than once");
            Duplicates(config.SharedNetworks.Select(n => n.Name), "shared-network-duplicate", n => $"shared network {n}", "is defined more than once");
            Duplicates(config.OptionDefs.Select(d => $"{d.Space ?? DefaultSpace} {d.Name}"), "option-def-duplicate", n => $"option definition {n}", "is defined more than once");
            Duplicates(config.OptionDefs.Select(d => $"{d.Space ?? DefaultSpace} code {d.Code}"), "option-def-duplicate", n => $"option definition {n}", "is defined more than once");

            var subnets = config.EverySubnet().ToList();
            foreach (var group in subnets.GroupBy(s => s.Id).Where(g => g.Count() > 1))
            {
                Error("subnet-id-duplicate", $"subnet id {group.Key}", $"is used by {string.Join(" and ", group.Select(s => s.Prefix))}: subnet ids must be unique");
            }

            var ranges = new List<(DhcpSubnet Subnet, IpRange Range)>();
            foreach (var subnet in subnets)
            {
                if (IpRange.ParsePrefix(subnet.Prefix, _family) is { } range)
                {
                    ranges.Add((subnet, range));
                    Subnet(subnet, range);
                }
                else
                {
                    Error("subnet-prefix", Name(subnet), $"'{subnet.Prefix}' is not an {Ip} prefix (address/length)");
                }
            }

            Overlaps(ranges, r => r.Range, (a, b) => Error("subnet-overlap", Name(a.Subnet), $"overlaps {Name(b.Subnet)}"));
            Reservations(config.Reservations, null, "(global)");
            Options();
            Hooks();
            if (config.Ha is { } ha)
            {
                HighAvailability(ha);
            }
        }

        /// <summary>An HA pair: its mode, its peers' names, URLs and roles, the timers, this server among the peers, no second ha hook.</summary>
        private void HighAvailability(DhcpHa ha)
        {
            const string Pair = "the HA pair";
            string[] modes = ["hot-standby", "load-balancing"];
            if (!modes.Contains(ha.Mode, StringComparer.Ordinal))
            {
                Error("ha-mode", Pair, $"has mode '{ha.Mode}': it must be hot-standby or load-balancing");
            }

            if (ha.Peers.Length < 2)
            {
                Error("ha-peers", Pair, "needs two peers (and may have backups)");
            }

            Duplicates(ha.Peers.Select(p => p.Name), "ha-peer-duplicate", n => $"HA peer {n}", "is named twice");
            Duplicates(ha.Peers.Select(p => p.ServerId), "ha-peer-duplicate", n => $"HA peer server {n}", "is a peer twice");
            Duplicates(ha.Peers.Select(p => p.Url.TrimEnd('/')), "ha-url-duplicate", n => $"HA URL {n}", "is given to two peers");
            foreach (var peer in ha.Peers)
            {
                if (peer.Name.Length is 0 or > 64 || !peer.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                {
                    Error("ha-peer-name", $"HA peer {peer.Name}", "must be 1 to 64 letters, digits, '-', '_' or '.'");
                }

                if (!Uri.TryCreate(peer.Url, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp || url.IsDefaultPort && !peer.Url.Contains(":80", StringComparison.Ordinal)
                    || !System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out _))
                {
                    Error("ha-url", $"HA peer {peer.Name}", $"has URL '{peer.Url}': it must be http://ADDRESS:PORT/ with the IP address and port the peer's HA listener answers on");
                }
            }

            var roles = ha.Peers.Select(p => p.Role).ToList();
            var (first, second) = ha.Mode == "load-balancing" ? ("primary", "secondary") : ("primary", "standby");
            if (roles.Count(r => r == first) != 1 || roles.Count(r => r == second) != 1 || roles.Any(r => r != first && r != second && r != "backup"))
            {
                Error("ha-roles", Pair, $"in {ha.Mode} mode needs one {first} and one {second} (others: backup); the roles are {string.Join(", ", roles)}");
            }

            if (ha.MaxResponseDelayMs <= ha.HeartbeatDelayMs)
            {
                Error("ha-timers", Pair, $"waits {ha.MaxResponseDelayMs} ms for a partner's answer, not more than its heartbeat delay ({ha.HeartbeatDelayMs} ms): the partner would be declared down between heartbeats");
            }

            if (serverId is not null && ha.Peers.All(p => p.ServerId != serverId))
            {
                Error("ha-this-server", Pair, $"does not list this server ({serverId}) among its peers");
            }

            if (config.Hooks.Any(h => KeaHooks.Is(h.Library, KeaHooks.Ha)))
            {
                Error("ha-hook-duplicate", "hooks-libraries", $"loads {KeaHooks.Ha} itself while the configuration is in an HA pair: remove one");
            }

            if (ha.Mode == "load-balancing")
            {
                var classes = config.EverySubnet().SelectMany(s => s.Pools.Select(p => p.ClientClass)).ToHashSet(StringComparer.Ordinal);
                foreach (var peer in ha.Peers.Where(p => p.Role is "primary" or "secondary").Where(p => !classes.Contains("HA_" + p.Name)))
                {
                    Warning("ha-load-balancing-classes", $"HA peer {peer.Name}", $"has no pool of class HA_{peer.Name}: in load-balancing mode each peer serves the pools of its class, so it would hand out nothing");
                }
            }
        }

        /// <summary>Every option value in every scope: a known name with a value that does not parse, or a name nobody defines.</summary>
        private void Options()
        {
            var defined = new HashSet<string>(config.OptionDefs.Select(d => $"{d.Space ?? Space} {d.Name}"), StringComparer.Ordinal);
            void Check(IEnumerable<DhcpOption> options, string where)
            {
                foreach (var option in options)
                {
                    var space = option.Space ?? Space;
                    if (option.Name is not { } name || space != Space || defined.Contains($"{space} {name}"))
                    {
                        continue; // by code, in another space, or custom: Kea checks against its definition
                    }

                    if (!DhcpOptionNames.TryGet(config.Family, name, out var type))
                    {
                        Warning("option-unknown", $"option {name} of {where}", $"is not a standard {Space} option the review knows and no option-def here defines it; Kea's config-test decides when it is pushed");
                    }
                    else if (option.CsvFormat != false && option.Data is { } data && DhcpOptionNames.Problem(type, data) is { } problem)
                    {
                        Error("option-value", $"option {name} of {where}", problem);
                    }
                }
            }

            Check(config.Options, "the global scope");
            foreach (var c in config.ClientClasses)
            {
                Check(c.Options, $"client class {c.Name}");
            }

            foreach (var network in config.SharedNetworks)
            {
                Check(network.Options, $"shared network {network.Name}");
            }

            foreach (var subnet in config.EverySubnet())
            {
                Check(subnet.Options, Name(subnet));
                foreach (var pool in subnet.Pools)
                {
                    Check(pool.Options, $"pool {pool.Range} of {Name(subnet)}");
                }

                foreach (var reservation in subnet.Reservations)
                {
                    Check(reservation.Options, $"reservation {Client(reservation)} in {Name(subnet)}");
                }
            }

            foreach (var reservation in config.Reservations)
            {
                Check(reservation.Options, $"reservation {Client(reservation)} (global)");
            }
        }

        /// <summary>The hooks the product relies on: without lease_cmds, leases cannot be listed, searched or deleted.</summary>
        private void Hooks()
        {
            if (!config.Hooks.Any(h => KeaHooks.Is(h.Library, KeaHooks.LeaseCmds)))
            {
                Warning("hook-lease-cmds", "hooks-libraries", $"does not load {KeaHooks.LeaseCmds}: leases of this server cannot be listed, searched or deleted (GET /api/v1/servers/{{id}}/leases); add it to hooks-libraries");
            }
        }

        private void Subnet(DhcpSubnet subnet, IpRange range)
        {
            var name = Name(subnet);
            ClassReference([subnet.ClientClass], name);
            var pools = new List<(DhcpPool Pool, IpRange Range)>();
            foreach (var pool in subnet.Pools)
            {
                var poolName = $"pool {pool.Range} of {name}";
                if (IpRange.ParsePool(pool.Range, _family) is not { } poolRange)
                {
                    Error("pool-range", poolName, $"is not an {Ip} range (first - last, or a prefix)");
                }
                else if (!range.Contains(poolRange))
                {
                    Error("pool-outside-subnet", poolName, $"is not inside {subnet.Prefix}");
                }
                else
                {
                    pools.Add((pool, poolRange));
                }

                ClassReference([pool.ClientClass], poolName);
            }

            Overlaps(pools, p => p.Range, (a, b) => Error("pool-overlap", $"pool {a.Pool.Range} of {name}", $"overlaps pool {b.Pool.Range}"));

            var pdPools = new List<(DhcpPdPool Pool, IpRange Range)>();
            foreach (var pd in subnet.PdPools)
            {
                var pdName = $"pd-pool {pd.Prefix}/{pd.PrefixLength} of {name}";
                if (IpRange.ParsePrefix($"{pd.Prefix}/{pd.PrefixLength}", _family) is not { } pdRange)
                {
                    Error("pd-pool-prefix", pdName, "is not an IPv6 prefix");
                }
                else if (pd.DelegatedLength < pd.PrefixLength || pd.DelegatedLength > 128)
                {
                    Error("pd-pool-delegated-len", pdName, $"delegates /{pd.DelegatedLength}: it must be between /{pd.PrefixLength} and /128");
                }
                else
                {
                    pdPools.Add((pd, pdRange));
                }
            }

            Overlaps(pdPools, p => p.Range, (a, b) => Error("pd-pool-overlap", $"pd-pool {a.Pool.Prefix}/{a.Pool.PrefixLength} of {name}", $"overlaps pd-pool {b.Pool.Prefix}/{b.Pool.PrefixLength}"));

            var reserved = Reservations(subnet.Reservations, range, "in " + name);
            foreach (var (pool, poolRange) in pools)
            {
                var inside = reserved.Where(r => poolRange.Contains(r.Address.Range)).ToList();
                foreach (var (address, reservation) in inside)
                {
                    Warning("reservation-in-pool", $"reservation {Client(reservation)} in {name}", $"reserves {address.Text} inside pool {pool.Range}: Kea then checks for a conflicting lease at run time; an address outside the pools avoids it");
                }

                if (inside.Count > 0 && (UInt128)inside.Select(r => r.Address.Range.First).Distinct().Count() >= poolRange.Size)
                {
                    Warning("pool-exhausted", $"pool {pool.Range} of {name}", $"has {poolRange.Size} addresses and all are reserved: it has none left for other clients");
                }
            }
        }

        /// <summary>Checks one scope's reservations; returns the valid addresses reserved, each with its reservation.</summary>
        private List<((IpRange Range, string Text) Address, DhcpReservation Reservation)> Reservations(ImmutableArray<DhcpReservation> reservations, IpRange? subnet, string scope)
        {
            var result = new List<((IpRange, string), DhcpReservation)>();
            var clients = new Dictionary<string, DhcpReservation>(StringComparer.OrdinalIgnoreCase);
            var addresses = new Dictionary<UInt128, DhcpReservation>();
            foreach (var reservation in reservations)
            {
                var name = $"reservation {Client(reservation)} {scope}";
                if (!clients.TryAdd($"{reservation.IdentifierType} {reservation.Identifier}", reservation))
                {
                    Error("reservation-client-duplicate", name, $"is made twice for this {reservation.IdentifierType}");
                }

                foreach (var text in reservation.Addresses)
                {
                    if (IpRange.Address(text, _family) is not { } address)
                    {
                        Error("reservation-address", name, $"reserves '{text}', which is not an {Ip} address");
                    }
                    else if (subnet is { } range && !range.Contains(address))
                    {
                        Error("reservation-outside-subnet", name, $"reserves {text}, which is not inside the subnet");
                    }
                    else if (addresses.TryGetValue(address.First, out var other) && !ReferenceEquals(other, reservation))
                    {
                        Error("reservation-address-duplicate", name, $"reserves {text}, already reserved for {Client(other)}");
                    }
                    else
                    {
                        addresses[address.First] = reservation;
                        result.Add(((address, text), reservation));
                    }
                }

                ClassReference(reservation.ClientClasses, name);
            }

            return result;
        }

        private void ClassReference(IEnumerable<string?> names, string where)
        {
            foreach (var name in names)
            {
                if (name is not null && !_classes.Contains(name) && !BuiltInClasses.Contains(name, StringComparer.Ordinal) && !BuiltInClassPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                {
                    Warning("class-undefined", where, $"names client class '{name}', which is not defined here (a hook may still assign it)");
                }
            }
        }

        private void Duplicates(IEnumerable<string> names, string check, Func<string, string> name, string message)
        {
            foreach (var group in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                Error(check, name(group.Key), message);
            }
        }

        /// <summary>Reports each item that overlaps an earlier one (by start), after one sort.</summary>
        private static void Overlaps<T>(List<T> items, Func<T, IpRange> range, Action<T, T> report)
        {
            T? widest = default;
            var hasWidest = false;
            foreach (var item in items.OrderBy(i => range(i).First).ThenByDescending(i => range(i).Last))
            {
                if (hasWidest && range(item).First <= range(widest!).Last)
                {
                    report(item, widest!);
                }

                if (!hasWidest || range(item).Last > range(widest!).Last)
                {
                    widest = item;
                    hasWidest = true;
                }
            }
        }

        private static string Name(DhcpSubnet subnet) => $"subnet {subnet.Id} ({subnet.Prefix})";

        private static string Client(DhcpReservation reservation) => $"{reservation.IdentifierType} {reservation.Identifier}";

        private void Error(string check, string name, string message) => Findings.Add(new DhcpFinding(DhcpSeverity.Error, check, name, message));

        private void Warning(string check, string name, string message) => Findings.Add(new DhcpFinding(DhcpSeverity.Warning, check, name, message));
    }
}
