using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// Reads a whole Kea configuration document (<c>{"Dhcp4": …}</c> or <c>{"Dhcp6": …}</c>, comments as Kea allows them)
/// into a <see cref="DhcpConfig"/>. What the model covers becomes model objects; every other member is kept verbatim in
/// the <c>Extra</c> of the object it belongs to and listed in the summary. A member of the wrong type, a subnet without
/// its id, a reservation naming no client: refused with the JSON path of the problem.
/// </summary>
public static class KeaImport
{
    private static readonly string[] IdentifierTypes = ["hw-address", "client-id", "duid", "circuit-id", "flex-id"];

    public static (DhcpConfig Config, DhcpImportSummary Summary) Parse(string text) => Read(KeaJson.ParseDocument(text));

    public static (DhcpConfig Config, DhcpImportSummary Summary) Read(JsonObject document)
    {
        var roots = document.Select(m => m.Key).Where(k => k is "Dhcp4" or "Dhcp6").ToList();
        if (roots.Count != 1)
        {
            throw new KeaConfigException("the document", roots.Count == 0 ? "has no Dhcp4 or Dhcp6 member" : "has both Dhcp4 and Dhcp6: import one at a time");
        }

        var others = document.Select(m => m.Key).Where(k => k != roots[0]).ToList();
        if (others.Count > 0)
        {
            throw new KeaConfigException(others[0], $"is not part of a {roots[0]} configuration (a DHCP server's file holds {roots[0]} only)");
        }

        var family = roots[0] == "Dhcp4" ? DhcpFamily.V4 : DhcpFamily.V6;
        var root = document[roots[0]] as JsonObject ?? throw new KeaConfigException(roots[0], "must be an object");
        var context = new Context(family, ExplicitSubnetIds(root, family == DhcpFamily.V4 ? "subnet4" : "subnet6"));
        var config = context.Config(new Members(root, roots[0], context));
        var summary = new DhcpImportSummary(
            family,
            config.EverySubnet().Count(),
            config.SharedNetworks.Length,
            config.EverySubnet().Sum(s => s.Pools.Length),
            config.EverySubnet().Sum(s => s.PdPools.Length),
            config.Reservations.Length + config.EverySubnet().Sum(s => s.Reservations.Length),
            context.Options,
            config.OptionDefs.Length,
            config.ClientClasses.Length,
            [.. context.Verbatim],
            [.. context.Notes],
            []);
        return (config, summary);
    }

    /// <summary>The ids subnets already have (so ids given to those without one do not collide).</summary>
    private static HashSet<long> ExplicitSubnetIds(JsonObject root, string subnetKey)
    {
        IEnumerable<JsonNode?> Subnets(JsonObject o) => o[subnetKey] is JsonArray a ? a : [];
        var all = Subnets(root).Concat((root["shared-networks"] as JsonArray ?? []).OfType<JsonObject>().SelectMany(Subnets));
        return [.. all.OfType<JsonObject>().Select(s => s["id"] is JsonValue v && v.TryGetValue<long>(out var id) ? id : -1).Where(id => id >= 0)];
    }

    private sealed class Context(DhcpFamily family, HashSet<long> usedIds)
    {
        private long _nextId = 1;

        public DhcpFamily Family { get; } = family;

        public string SubnetKey => Family == DhcpFamily.V4 ? "subnet4" : "subnet6";

        public List<string> Verbatim { get; } = [];

        public int Options { get; set; }

        public List<string> Notes { get; } = [];

        public DhcpConfig Config(Members m)
        {
            var timers = new DhcpTimers(m.Long("valid-lifetime"), m.Long("renew-timer"), m.Long("rebind-timer"), Family == DhcpFamily.V6 ? m.Long("preferred-lifetime") : null);
            var defs = m.List("option-def", OptionDef);
            var options = m.List("option-data", Option);
            var classes = m.List("client-classes", ClientClass);
            var reservations = m.List("reservations", Reservation);
            var networks = m.List("shared-networks", SharedNetwork);
            var subnets = m.List(SubnetKey, Subnet);
            var lease = m.Object("lease-database") is { } db ? LeaseDatabase(db) : null;
            var hooks = m.List("hooks-libraries", Hook);
            return new DhcpConfig(Family, timers, defs, options, classes, networks, subnets, reservations, lease, hooks, m.Extra());
        }

        private DhcpOptionDef OptionDef(Members m) => new(
            m.RequiredString("name"),
            (int)m.RequiredLong("code"),
            m.RequiredString("type"),
            m.String("space"),
            m.Bool("array"),
            m.String("record-types"),
            m.String("encapsulate"),
            m.Extra());

        private DhcpOption Option(Members m)
        {
            Options++;
            var option = new DhcpOption(m.String("name"), (int?)m.Long("code"), m.String("space"), m.String("data"), m.Bool("csv-format"), m.Bool("always-send"), m.Extra());
            return option.Name is null && option.Code is null ? throw new KeaConfigException(m.Path, "names no option: give \"name\" or \"code\"") : option;
        }

        private DhcpClientClass ClientClass(Members m) => new(m.RequiredString("name"), m.String("test"), m.List("option-data", Option), m.Extra());

        private DhcpSharedNetwork SharedNetwork(Members m) =>
            new(m.RequiredString("name"), m.String("interface"), m.List("option-data", Option), m.List(SubnetKey, Subnet), m.Extra());

        private DhcpSubnet Subnet(Members m)
        {
            var prefix = m.RequiredString("subnet");
            if (m.Long("id") is not { } id)
            {
                // Kea numbers such subnets itself, and would renumber them when subnets are added or removed, moving
                // leases and statistics to other subnets: the model keeps ids explicit, so the import gives one now.
                while (!usedIds.Add(_nextId))
                {
                    _nextId++;
                }

                id = _nextId;
                Notes.Add($"{m.Path} ({prefix}) had no id: it now has id {id}");
            }

            return new DhcpSubnet(
                id,
                prefix,
                m.List("pools", Pool),
                Family == DhcpFamily.V6 ? m.List("pd-pools", PdPool) : [],
                m.List("reservations", Reservation),
                m.List("option-data", Option),
                m.String("client-class"),
                m.String("interface"),
                m.Extra());
        }

        private DhcpPool Pool(Members m) => new(m.RequiredString("pool"), m.List("option-data", Option), m.String("client-class"), m.Extra());

        private DhcpPdPool PdPool(Members m) => new(
            m.RequiredString("prefix"),
            (int)m.RequiredLong("prefix-len"),
            (int)m.RequiredLong("delegated-len"),
            m.String("excluded-prefix"),
            (int?)m.Long("excluded-prefix-len"),
            m.List("option-data", Option),
            m.String("client-class"),
            m.Extra());

        private DhcpReservation Reservation(Members m)
        {
            var identifiers = IdentifierTypes.Where(m.Has).ToList();
            if (identifiers.Count != 1)
            {
                throw new KeaConfigException(m.Path, identifiers.Count == 0
                    ? "names no client: give one of hw-address, client-id, duid, circuit-id or flex-id"
                    : $"names its client twice ({string.Join(" and ", identifiers)}): give one");
            }

            ImmutableArray<string> addresses = Family == DhcpFamily.V4
                ? m.String("ip-address") is { } address ? [address] : []
                : m.Strings("ip-addresses");
            return new DhcpReservation(
                identifiers[0],
                m.RequiredString(identifiers[0]),
                addresses,
                Family == DhcpFamily.V6 ? m.Strings("prefixes") : [],
                m.String("hostname"),
                m.List("option-data", Option),
                m.Strings("client-classes"),
                m.Extra());
        }

        private static DhcpLeaseDatabase LeaseDatabase(Members m) =>
            new(m.RequiredString("type"), m.String("name"), m.Bool("persist"), m.Long("lfc-interval"), m.Extra());

        private static DhcpHook Hook(Members m)
        {
            var library = m.RequiredString("library");
            var parameters = m.Node("parameters") is { } p ? KeaJson.Compact(p) : null;
            if (m.Extra() is { } extra)
            {
                throw new KeaConfigException(m.Path, $"has members other than library and parameters: {extra}");
            }

            return new DhcpHook(library, parameters);
        }
    }

    /// <summary>The members of one JSON object: typed reads that remember what was taken; the rest is <see cref="Extra"/>.</summary>
    private sealed class Members(JsonObject json, string path, Context context)
    {
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

        public string Path { get; } = path;

        public bool Has(string key) => json.ContainsKey(key);

        public JsonNode? Node(string key)
        {
            _taken.Add(key);
            return json.TryGetPropertyValue(key, out var node) ? node : null;
        }

        public string? String(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => throw Wrong(key, "a string"),
        };

        public string RequiredString(string key) => String(key) ?? throw new KeaConfigException(Path, $"has no \"{key}\"");

        public long? Long(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => throw Wrong(key, "a whole number"),
        };

        public long RequiredLong(string key) => Long(key) ?? throw new KeaConfigException(Path, $"has no \"{key}\"");

        public bool? Bool(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Wrong(key, "true or false"),
        };

        public Members? Object(string key) => Node(key) switch
        {
            null => null,
            JsonObject o => new Members(o, $"{Path}.{key}", context),
            _ => throw Wrong(key, "an object"),
        };

        public ImmutableArray<string> Strings(string key)
        {
            if (Node(key) is not { } node)
            {
                return [];
            }

            if (node is not JsonArray array)
            {
                throw Wrong(key, "a list of strings");
            }

            return [.. array.Select((item, i) => item is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new KeaConfigException($"{Path}.{key}[{i}]", "must be a string"))];
        }

        public ImmutableArray<T> List<T>(string key, Func<Members, T> read)
        {
            if (Node(key) is not { } node)
            {
                return [];
            }

            if (node is not JsonArray array)
            {
                throw Wrong(key, "a list");
            }

            return [.. array.Select((item, i) => read(new Members(item as JsonObject ?? throw new KeaConfigException($"{Path}.{key}[{i}]", "must be an object"), $"{Path}.{key}[{i}]", context)))];
        }

        /// <summary>The members not taken, as a compact JSON object (null when none); each is listed as kept verbatim.</summary>
        public string? Extra()
        {
            var rest = new JsonObject();
            foreach (var (key, value) in json)
            {
                if (!_taken.Contains(key))
                {
                    rest[key] = value?.DeepClone();
                    context.Verbatim.Add($"{Path}.{key}");
                }
            }

            return rest.Count == 0 ? null : KeaJson.Compact(rest);
        }

        private KeaConfigException Wrong(string key, string what) => new($"{Path}.{key}", $"must be {what}");
    }
}
