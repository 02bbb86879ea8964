using System.Globalization;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// One resource record, class IN. <see cref="Owner"/>: absolute, lower case, with the trailing dot;
/// <see cref="Data"/>: the RDATA in its canonical presentation form (absolute lower-case names, upper-case hex, quoted
/// strings with RFC 1035 escapes), so equal records have equal text.
/// </summary>
public readonly record struct ZoneRecord(string Owner, ushort Type, int Ttl, string Data)
{
    /// <summary>
    /// The record's stable id: 16 hex digits of a 64-bit FNV-1a hash of owner, type and data (not the TTL). The SOA's id
    /// leaves the data out, so it stays the same while the serial moves.
    /// </summary>
    public string Id => IdHash.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The hash behind <see cref="Id"/>: compared as a number when looking a record up (no string per record).</summary>
    public ulong IdHash
    {
        get
        {
            var hash = 14695981039346656037UL;
            hash = Mix(hash, Owner);
            hash = (hash ^ Type) * 1099511628211UL;
            if (Type != RecordTypes.Soa)
            {
                hash = Mix(hash, Data);
            }

            return hash;
        }
    }

    private static ulong Mix(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return (hash ^ 0xFFFF) * 1099511628211UL;
    }
}

/// <summary>Type codes and mnemonics of the types the zone parser knows; any other type goes by RFC 3597 (TYPEnnn, \#).</summary>
public static class RecordTypes
{
    public const ushort A = 1;
    public const ushort Ns = 2;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Ptr = 12;
    public const ushort Mx = 15;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Ds = 43;
    public const ushort Rrsig = 46;
    public const ushort Nsec = 47;
    public const ushort Tlsa = 52;
    public const ushort Caa = 257;

    private static readonly (ushort Code, string Name)[] Known =
    [
        (A, "A"), (Ns, "NS"), (Cname, "CNAME"), (Soa, "SOA"), (Ptr, "PTR"), (Mx, "MX"), (Txt, "TXT"),
        (Aaaa, "AAAA"), (Srv, "SRV"), (Ds, "DS"), (Tlsa, "TLSA"), (Caa, "CAA"),
    ];

    private static readonly string[] Numbered = [.. Enumerable.Range(0, 65536).Select(t => "TYPE" + t.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The mnemonics accepted as such, for messages.</summary>
    public static string KnownList => string.Join(", ", Known.Select(k => k.Name));

    /// <summary>True when the parser knows the type's own presentation form.</summary>
    public static bool IsKnown(ushort type)
    {
        foreach (var k in Known)
        {
            if (k.Code == type)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"A", "CAA", … or "TYPE65534".</summary>
    public static string Name(ushort type)
    {
        foreach (var k in Known)
        {
            if (k.Code == type)
            {
                return k.Name;
            }
        }

        return Numbered[type];
    }

    /// <summary>Parses a mnemonic (case-insensitive) or TYPEnnn.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ushort type)
    {
        foreach (var k in Known)
        {
            if (text.Equals(k.Name, StringComparison.OrdinalIgnoreCase))
            {
                type = k.Code;
                return true;
            }
        }

        if (text.Length > 4 && text[..4].Equals("TYPE", StringComparison.OrdinalIgnoreCase)
            && ushort.TryParse(text[4..], NumberStyles.None, CultureInfo.InvariantCulture, out type))
        {
            return true;
        }

        type = 0;
        return false;
    }
}
