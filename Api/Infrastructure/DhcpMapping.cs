using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Api.Infrastructure;

/// <summary>
/// DHCP objects between the API's JSON and the model: reading a request checks the shape of every field (family,
/// subnet id, prefixes, pools, identifiers, addresses, options) and names the field that is wrong; what needs the whole
/// configuration (overlaps, containment, duplicates) is the review's, run by the edit.
/// </summary>
public static partial class DhcpMapping
{
    /// <summary>The most servers one request changes.</summary>
    public const int MaxServers = 100;

    /// <summary>Largest subnet id Kea takes.</summary>
    public const long MaxSubnetId = 4_294_967_294;

    /// <summary>The reservation identifiers, as the API names them and as Kea does.</summary>
    private static readonly (string Api, string Kea)[] Identifiers =
        [("hw_address", "hw-address"), ("client_id", "client-id"), ("duid", "duid"), ("circuit_id", "circuit-id"), ("flex_id", "flex-id")];

    public static DhcpFamily? Family(int? family, FieldErrors errors, string field = "family")
    {
        switch (family)
        {
            case 4: return DhcpFamily.V4;
            case 6: return DhcpFamily.V6;
            case null:
                errors.Add(field, "is required: 4 (DHCPv4) or 6 (DHCPv6)");
                return null;
            default:
                errors.Add(field, "must be 4 or 6");
                return null;
        }
    }

    /// <summary>The servers a change goes to: one or more distinct ids.</summary>
    public static IReadOnlyList<string> Servers(IReadOnlyList<string>? servers, FieldErrors errors, string field = "servers")
    {
        if (servers is null || servers.Count == 0)
        {
            errors.Add(field, "is required: the ids of the DHCP servers whose configuration this changes");
            return [];
        }

        var distinct = servers.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count != servers.Count)
        {
            errors.Add(field, "must be distinct, non-empty server ids");
        }
        else if (distinct.Count > MaxServers)
        {
            errors.Add(field, $"names more than {MaxServers} servers");
        }

        return distinct;
    }

    public static long SubnetId(long? id, FieldErrors errors, string field = "id")
    {
        if (id is null)
        {
            errors.Add(field, "is required: the subnet's id, unique in each server's configuration (Kea keys leases and statistics by it)");
            return 0;
        }

        if (id is < 1 or > MaxSubnetId)
        {
            errors.Add(field, $"must be between 1 and {MaxSubnetId}");
        }

        return id.Value;
    }

    /// <summary>A subnet from a request; null when a field is wrong (each is named in <paramref name="errors"/>).</summary>
    public static DhcpSubnet? Subnet(DhcpSubnetRequest body, DhcpFamily family, long id, FieldErrors errors)
    {
        var start = errors.Count;
        var prefix = body.Subnet?.Trim();
        if (string.IsNullOrEmpty(prefix))
        {
            errors.Add("subnet", $"is required: the subnet's prefix, such as {(family == DhcpFamily.V4 ? "192.0.2.0/24" : "2001:db8:1::/64")}");
        }
        else if (!IsPrefix(prefix, family, out var canonical))
        {
            errors.Add("subnet", $"'{prefix}' is not an IPv{(int)family} prefix (address/length)");
        }
        else if (canonical != prefix)
        {
            errors.Add("subnet", $"'{prefix}' has host bits set: the subnet is {canonical}");
        }

        var pools = Pools(body.Pools, family, errors, "pools");
        var pdPools = PdPools(body.PdPools, family, errors);
        var reservations = new List<DhcpReservation>();
        for (var i = 0; i < (body.Reservations?.Count ?? 0); i++)
        {
            if (Reservation(body.Reservations![i], family, errors, $"reservations[{i}].") is { } r)
            {
                reservations.Add(r);
            }
        }

        var options = Options(body.Options, errors, "options");
        return errors.Count > start
            ? null
            : new DhcpSubnet(id, prefix!, pools, pdPools, [.. reservations], options, Blank(body.ClientClass), Blank(body.Interface), null);
    }

    public static ImmutableArray<DhcpPool> Pools(IReadOnlyList<string>? pools, DhcpFamily family, FieldErrors errors, string field)
    {
        var list = ImmutableArray.CreateBuilder<DhcpPool>();
        for (var i = 0; i < (pools?.Count ?? 0); i++)
        {
            if (Pool(pools![i], family, errors, $"{field}[{i}]") is { } pool)
            {
                list.Add(pool);
            }
        }

        return list.ToImmutable();
    }

    /// <summary>A pool as Kea writes it: <c>first - last</c>, <c>first-last</c> or a prefix.</summary>
    public static DhcpPool? Pool(string? text, DhcpFamily family, FieldErrors errors, string field)
    {
        var range = text?.Trim() ?? string.Empty;
        if (range.Contains('/', StringComparison.Ordinal) ? IsPrefix(range, family, out _) : IsRange(range, family))
        {
            return new DhcpPool(range, [], null, null);
        }

        errors.Add(field, $"'{text}' is not an IPv{(int)family} pool: first-last (such as {(family == DhcpFamily.V4 ? "192.0.2.10-192.0.2.200" : "2001:db8:1::10-2001:db8:1::ff")}) or a prefix");
        return null;
    }

    private static ImmutableArray<DhcpPdPool> PdPools(IReadOnlyList<DhcpPdPoolData>? pools, DhcpFamily family, FieldErrors errors)
    {
        if (pools is not { Count: > 0 })
        {
            return [];
        }

        if (family != DhcpFamily.V6)
        {
            errors.Add("pd_pools", "prefix delegation is DHCPv6 only");
            return [];
        }

        var list = ImmutableArray.CreateBuilder<DhcpPdPool>();
        for (var i = 0; i < pools.Count; i++)
        {
            var p = pools[i];
            if (!IPAddress.TryParse(p.Prefix, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                errors.Add($"pd_pools[{i}].prefix", $"'{p.Prefix}' is not an IPv6 address");
            }
            else if (p.PrefixLen is < 1 or > 128 || p.DelegatedLen < p.PrefixLen || p.DelegatedLen > 128)
            {
                errors.Add($"pd_pools[{i}].delegated_len", "needs 1 ≤ prefix_len ≤ delegated_len ≤ 128");
            }
            else
            {
                list.Add(new DhcpPdPool(p.Prefix, p.PrefixLen, p.DelegatedLen, p.ExcludedPrefix, p.ExcludedPrefixLen, [], null, null));
            }
        }

        return list.ToImmutable();
    }

    /// <summary>A reservation from a request; null when a field is wrong (named with <paramref name="prefix"/>).</summary>
    public static DhcpReservation? Reservation(DhcpReservationData body, DhcpFamily family, FieldErrors errors, string prefix = "")
    {
        var start = errors.Count;
        var given = Identifiers.Select(i => (i.Api, i.Kea, Value: IdentifierOf(body, i.Api))).Where(i => i.Value is not null).ToList();
        if (given.Count != 1)
        {
            errors.Add(prefix + "hw_address", given.Count == 0
                ? "a reservation needs one client identifier: hw_address, client_id, duid, circuit_id or flex_id"
                : $"give one client identifier, not {string.Join(" and ", given.Select(g => g.Api))}");
        }
        else if (!IsIdentifier(given[0].Value!, given[0].Api))
        {
            errors.Add(prefix + given[0].Api, $"'{given[0].Value}' is not {(given[0].Api == "hw_address" ? "a MAC address such as 1a:1b:1c:1d:1e:1f" : "hex bytes such as 01:0a:0b:0c" + (given[0].Api is "flex_id" or "circuit_id" ? " or a quoted string such as 'abc'" : string.Empty))}");
        }

        var addresses = new List<string>();
        if (family == DhcpFamily.V4)
        {
            if (body.IpAddresses is { Count: > 0 } || body.Prefixes is { Count: > 0 })
            {
                errors.Add(prefix + (body.Prefixes is { Count: > 0 } ? "prefixes" : "ip_addresses"), "is DHCPv6 only: a DHCPv4 reservation has one ip_address");
            }

            if (body.IpAddress is { } ip)
            {
                Address(ip, family, errors, prefix + "ip_address", addresses);
            }
        }
        else
        {
            if (body.IpAddress is not null)
            {
                errors.Add(prefix + "ip_address", "is DHCPv4 only: a DHCPv6 reservation has ip_addresses (a list)");
            }

            for (var i = 0; i < (body.IpAddresses?.Count ?? 0); i++)
            {
                Address(body.IpAddresses![i], family, errors, $"{prefix}ip_addresses[{i}]", addresses);
            }
        }

        var prefixes = new List<string>();
        for (var i = 0; family == DhcpFamily.V6 && i < (body.Prefixes?.Count ?? 0); i++)
        {
            var text = body.Prefixes![i].Trim();
            if (IsPrefix(text, family, out _))
            {
                prefixes.Add(text);
            }
            else
            {
                errors.Add($"{prefix}prefixes[{i}]", $"'{text}' is not an IPv6 prefix");
            }
        }

        var hostname = Blank(body.Hostname);
        if (hostname is not null && (hostname.Length > 253 || !HostnamePattern().IsMatch(hostname)))
        {
            errors.Add(prefix + "hostname", $"'{hostname}' is not a host name (letters, digits, '-' and dots)");
        }

        if (addresses.Count == 0 && prefixes.Count == 0 && hostname is null && body.Options is not { Count: > 0 } && body.ClientClasses is not { Count: > 0 })
        {
            errors.Add(prefix + (family == DhcpFamily.V4 ? "ip_address" : "ip_addresses"), "a reservation must reserve something: an address, a prefix, a hostname, options or classes");
        }

        var options = Options(body.Options, errors, prefix + "options");
        return errors.Count > start
            ? null
            : new DhcpReservation(given[0].Kea, given[0].Value!.Trim(), [.. addresses], [.. prefixes], hostname, options, [.. body.ClientClasses ?? []], null);
    }

    /// <summary>The Kea name of an identifier named as the API names it (<c>hw_address</c> → <c>hw-address</c>), or null.</summary>
    public static string? KeaIdentifier(string? api) => Identifiers.FirstOrDefault(i => i.Api == api).Kea;

    public static ImmutableArray<DhcpOption> Options(IReadOnlyList<DhcpOptionData>? options, FieldErrors errors, string field)
    {
        var list = ImmutableArray.CreateBuilder<DhcpOption>();
        for (var i = 0; i < (options?.Count ?? 0); i++)
        {
            var o = options![i];
            if (string.IsNullOrWhiteSpace(o.Name) && o.Code is null)
            {
                errors.Add($"{field}[{i}].name", "an option needs a name (such as routers) or a code");
            }
            else if (o.Code is < 0 or > 65535)
            {
                errors.Add($"{field}[{i}].code", "must be between 0 and 65535");
            }
            else
            {
                list.Add(new DhcpOption(Blank(o.Name), o.Code, Blank(o.Space), o.Data, o.CsvFormat, o.AlwaysSend, null));
            }
        }

        return list.ToImmutable();
    }

    public static DhcpSubnetView ToView(DhcpConfig config, DhcpSubnet subnet, IReadOnlyList<string> servers) => new(
        (int)config.Family,
        subnet.Id,
        subnet.Prefix,
        config.SharedNetworks.FirstOrDefault(n => n.Subnets.Any(s => s.Id == subnet.Id))?.Name,
        [.. subnet.Pools.Select(p => p.Range)],
        [.. subnet.PdPools.Select(p => new DhcpPdPoolData(p.Prefix, p.PrefixLength, p.DelegatedLength, p.ExcludedPrefix, p.ExcludedPrefixLength))],
        [.. subnet.Reservations.Select(r => ToView(config.Family, r))],
        ToView(subnet.Options),
        subnet.ClientClass,
        subnet.Interface,
        servers);

    public static DhcpReservationData ToView(DhcpFamily family, DhcpReservation r) => new()
    {
        HwAddress = r.IdentifierType == "hw-address" ? r.Identifier : null,
        ClientId = r.IdentifierType == "client-id" ? r.Identifier : null,
        Duid = r.IdentifierType == "duid" ? r.Identifier : null,
        CircuitId = r.IdentifierType == "circuit-id" ? r.Identifier : null,
        FlexId = r.IdentifierType == "flex-id" ? r.Identifier : null,
        IpAddress = family == DhcpFamily.V4 ? r.Addresses.FirstOrDefault() : null,
        IpAddresses = family == DhcpFamily.V6 ? r.Addresses : null,
        Prefixes = family == DhcpFamily.V6 ? r.Prefixes : null,
        Hostname = r.Hostname,
        Options = r.Options.IsEmpty ? null : ToView(r.Options),
        ClientClasses = r.ClientClasses.IsEmpty ? null : r.ClientClasses,
    };

    public static DhcpOptionData[] ToView(ImmutableArray<DhcpOption> options) =>
        [.. options.Select(o => new DhcpOptionData(o.Name, o.Code, o.Space, o.Data, o.CsvFormat, o.AlwaysSend))];

    private static string? IdentifierOf(DhcpReservationData body, string api) => api switch
    {
        "hw_address" => Blank(body.HwAddress),
        "client_id" => Blank(body.ClientId),
        "duid" => Blank(body.Duid),
        "circuit_id" => Blank(body.CircuitId),
        _ => Blank(body.FlexId),
    };

    private static bool IsIdentifier(string value, string api) =>
        api == "hw_address" ? MacPattern().IsMatch(value) : HexPattern().IsMatch(value) || (api is "flex_id" or "circuit_id" && QuotedPattern().IsMatch(value));

    private static void Address(string text, DhcpFamily family, FieldErrors errors, string field, List<string> into)
    {
        if (IPAddress.TryParse(text.Trim(), out var ip) && ip.AddressFamily == Socket(family))
        {
            into.Add(text.Trim());
        }
        else
        {
            errors.Add(field, $"'{text}' is not an IPv{(int)family} address");
        }
    }

    private static AddressFamily Socket(DhcpFamily family) => family == DhcpFamily.V4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    /// <summary>Whether <paramref name="text"/> is a prefix of <paramref name="family"/>; <paramref name="canonical"/> without host bits.</summary>
    private static bool IsPrefix(string text, DhcpFamily family, out string canonical)
    {
        canonical = text;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || ip.AddressFamily != Socket(family)
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > (family == DhcpFamily.V4 ? 32 : 128))
        {
            return false;
        }

        var bytes = ip.GetAddressBytes();
        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        canonical = $"{new IPAddress(bytes)}/{length}";
        return true;
    }

    private static bool IsRange(string text, DhcpFamily family)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && IPAddress.TryParse(text[..dash].Trim(), out var first) && IPAddress.TryParse(text[(dash + 1)..].Trim(), out var last)
            && first.AddressFamily == Socket(family) && last.AddressFamily == Socket(family)
            && first.GetAddressBytes().AsSpan().SequenceCompareTo(last.GetAddressBytes()) <= 0;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [GeneratedRegex("^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2})*$")]
    private static partial Regex HexPattern();

    [GeneratedRegex("^'[^'\\\\]{1,128}'$")]
    private static partial Regex QuotedPattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?$")]
    private static partial Regex HostnamePattern();
}
