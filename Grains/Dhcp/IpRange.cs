using System.Net;
using System.Net.Sockets;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// An inclusive range of addresses of one family, as numbers (IPv4 in the low 32 bits), for the review's containment
/// and overlap checks. Parsed from the forms Kea writes: a prefix (<c>192.0.2.0/24</c>), a pool (<c>first - last</c>,
/// <c>first-last</c> or a prefix), a single address.
/// </summary>
public readonly record struct IpRange(AddressFamily Family, UInt128 First, UInt128 Last)
{
    public UInt128 Size => Last - First + 1;

    public bool Contains(IpRange other) => other.Family == Family && other.First >= First && other.Last <= Last;

    public bool Overlaps(IpRange other) => other.Family == Family && other.First <= Last && First <= other.Last;

    /// <summary>A prefix <c>address/length</c>; null when it is not one of <paramref name="family"/>.</summary>
    public static IpRange? ParsePrefix(string text, AddressFamily family)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash).Trim(), out var address) || address.AddressFamily != family
            || !int.TryParse(text.AsSpan(slash + 1).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
        {
            return null;
        }

        var bits = Bits(family);
        if (length > bits)
        {
            return null;
        }

        var value = ToNumber(address);
        var hostMask = length == bits ? UInt128.Zero : (UInt128.One << (bits - length)) - 1;
        var first = value & ~hostMask;
        return new IpRange(family, first, first | hostMask);
    }

    /// <summary>A pool as Kea writes it: <c>first - last</c> (spaces optional) or a prefix; null when it is neither.</summary>
    public static IpRange? ParsePool(string text, AddressFamily family)
    {
        if (text.Contains('/', StringComparison.Ordinal))
        {
            return ParsePrefix(text, family);
        }

        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || Address(text[..dash], family) is not { } first || Address(text[(dash + 1)..], family) is not { } last || first.First > last.First)
        {
            return null;
        }

        return new IpRange(family, first.First, last.First);
    }

    /// <summary>One address; null when it is not one of <paramref name="family"/>.</summary>
    public static IpRange? Address(string text, AddressFamily family) =>
        IPAddress.TryParse(text.Trim(), out var address) && address.AddressFamily == family ? new IpRange(family, ToNumber(address), ToNumber(address)) : null;

    public static int Bits(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    private static UInt128 ToNumber(IPAddress address)
    {
        var value = UInt128.Zero;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }

        return value;
    }
}
