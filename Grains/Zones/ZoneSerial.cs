using System.Globalization;

namespace ManagedServers.Grains.Zones;

/// <summary>SOA serial arithmetic (RFC 1982, 32-bit) and the serial field inside an SOA's canonical data.</summary>
public static class ZoneSerial
{
    /// <summary>True when <paramref name="a"/> is after <paramref name="b"/> in serial number arithmetic.</summary>
    public static bool IsAfter(uint a, uint b) =>
        a != b && ((a < b && b - a > 0x8000_0000u) || (a > b && a - b < 0x8000_0000u));

    /// <summary>The serial after <paramref name="current"/> (wraps modulo 2^32).</summary>
    public static uint Next(uint current) => unchecked(current + 1);

    /// <summary>
    /// The serial a changed zone gets: <paramref name="proposed"/> (an imported file's) when it is after
    /// <paramref name="current"/>, else the next one after <paramref name="current"/>.
    /// </summary>
    public static uint Choose(uint current, uint? proposed) =>
        proposed is { } p && IsAfter(p, current) ? p : Next(current);

    /// <summary>The serial in an SOA's canonical data (<c>mname rname serial refresh retry expire minimum</c>).</summary>
    public static uint Of(string soaData)
    {
        var fields = soaData.Split(' ');
        return uint.Parse(fields[^5], CultureInfo.InvariantCulture);
    }

    /// <summary>The SOA data with its serial replaced.</summary>
    public static string With(string soaData, uint serial)
    {
        var fields = soaData.Split(' ');
        fields[^5] = serial.ToString(CultureInfo.InvariantCulture);
        return string.Join(' ', fields);
    }
}
