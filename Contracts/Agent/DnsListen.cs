using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ManagedServers.Contracts.Agent;

/// <summary>
/// Knot listen entries: <c>address@port</c> (<c>127.0.0.1@15353</c>, <c>::1@53</c>), or an address alone (port 53). One
/// parser for the API (which refuses bad entries by index) and the agent (which renders them).
/// </summary>
public static class DnsListen
{
    public const int DefaultPort = 53;

    /// <summary>Most entries one service takes.</summary>
    public const int MaxEntries = 16;

    /// <summary>Knot's default when none are given: port 53 on every IPv4 and IPv6 address.</summary>
    public static IReadOnlyList<string> Default { get; } = [$"0.0.0.0@{DefaultPort}", $"::@{DefaultPort}"];

    /// <summary>
    /// The entries of the older form <c>listen_address</c>/<c>port</c>: the address at the port (53 when not given), or
    /// every IPv4 and IPv6 address at the port when no address is given. An address that does not parse is kept as it is
    /// (callers validate it first).
    /// </summary>
    public static IReadOnlyList<string> FromAddressAndPort(string? address, int? port)
    {
        var p = (port ?? DefaultPort).ToString(CultureInfo.InvariantCulture);
        if (address is null)
        {
            return [$"0.0.0.0@{p}", $"::@{p}"];
        }

        return [TryParse($"{address}@{p}", out var canonical, out _, out _) ? canonical : $"{address}@{p}"];
    }

    /// <summary>An entry as people read it: <c>192.0.2.1@53</c> → <c>192.0.2.1:53</c>, <c>::@53</c> → <c>[::]:53</c>.</summary>
    public static string Display(string entry)
    {
        var at = entry.LastIndexOf('@');
        if (at < 0)
        {
            return entry;
        }

        var address = entry[..at];
        return address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{entry[(at + 1)..]}" : $"{address}:{entry[(at + 1)..]}";
    }

    /// <summary>Entries as people read them, comma-separated (the form of a service's <c>listen</c> in its status).</summary>
    public static string Display(IEnumerable<string> entries) => string.Join(", ", entries.Select(Display));

    /// <summary>Parses one entry into its canonical form (<c>address@port</c>), or says what is wrong with it.</summary>
    public static bool TryParse(string? entry, out string canonical, out IPEndPoint? endpoint, out string? error)
    {
        canonical = string.Empty;
        endpoint = null;
        var text = entry?.Trim() ?? string.Empty;
        var at = text.LastIndexOf('@');
        var addressText = at < 0 ? text : text[..at];
        if (addressText.Length > 2 && addressText[0] == '[' && addressText[^1] == ']')
        {
            addressText = addressText[1..^1]; // [2001:db8::1]@53
        }

        var port = DefaultPort;
        if (at >= 0 && (!int.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            error = $"'{entry}': the port after '@' must be a number between 1 and 65535";
            return false;
        }

        if (!IPAddress.TryParse(addressText, out var address) || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || addressText.Contains('%', StringComparison.Ordinal))
        {
            error = $"'{entry}' is not an address or address@port (e.g. 127.0.0.1@15353, ::1@53)";
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        canonical = $"{address}@{port.ToString(CultureInfo.InvariantCulture)}";
        error = null;
        return true;
    }
}
