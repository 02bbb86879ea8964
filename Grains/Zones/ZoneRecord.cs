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

/// <summary>
/// Type codes and the mnemonics Knot 3.2's zone-file scanner (libzscanner) accepts, with their presentation forms; any
/// other type goes by RFC 3597 (<c>TYPEnnn \# length hex</c>). Mnemonics Knot only prints (NULL, OPT, TSIG, ...) are not
/// accepted by its scanner, so they are written TYPEnnn here too.
/// </summary>
public static class RecordTypes
{
    public const ushort A = 1;
    public const ushort Ns = 2;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Ptr = 12;
    public const ushort Hinfo = 13;
    public const ushort Minfo = 14;
    public const ushort Mx = 15;
    public const ushort Txt = 16;
    public const ushort Rp = 17;
    public const ushort Afsdb = 18;
    public const ushort Rt = 21;
    public const ushort Key = 25;
    public const ushort Aaaa = 28;
    public const ushort Loc = 29;
    public const ushort Srv = 33;
    public const ushort Naptr = 35;
    public const ushort Kx = 36;
    public const ushort Cert = 37;
    public const ushort Dname = 39;
    public const ushort Apl = 42;
    public const ushort Ds = 43;
    public const ushort Sshfp = 44;
    public const ushort Ipseckey = 45;
    public const ushort Rrsig = 46;
    public const ushort Nsec = 47;
    public const ushort Dnskey = 48;
    public const ushort Dhcid = 49;
    public const ushort Nsec3 = 50;
    public const ushort Nsec3Param = 51;
    public const ushort Tlsa = 52;
    public const ushort Smimea = 53;
    public const ushort Cds = 59;
    public const ushort Cdnskey = 60;
    public const ushort Openpgpkey = 61;
    public const ushort Csync = 62;
    public const ushort Zonemd = 63;
    public const ushort Svcb = 64;
    public const ushort Https = 65;
    public const ushort Spf = 99;
    public const ushort Nid = 104;
    public const ushort L32 = 105;
    public const ushort L64 = 106;
    public const ushort Lp = 107;
    public const ushort Eui48 = 108;
    public const ushort Eui64 = 109;
    public const ushort Uri = 256;
    public const ushort Caa = 257;

    private static readonly (ushort Code, string Name)[] Known =
    [
        (A, "A"), (Ns, "NS"), (Cname, "CNAME"), (Soa, "SOA"), (Ptr, "PTR"), (Hinfo, "HINFO"), (Minfo, "MINFO"), (Mx, "MX"),
        (Txt, "TXT"), (Rp, "RP"), (Afsdb, "AFSDB"), (Rt, "RT"), (Key, "KEY"), (Aaaa, "AAAA"), (Loc, "LOC"), (Srv, "SRV"),
        (Naptr, "NAPTR"), (Kx, "KX"), (Cert, "CERT"), (Dname, "DNAME"), (Apl, "APL"), (Ds, "DS"), (Sshfp, "SSHFP"),
        (Ipseckey, "IPSECKEY"), (Rrsig, "RRSIG"), (Nsec, "NSEC"), (Dnskey, "DNSKEY"), (Dhcid, "DHCID"), (Nsec3, "NSEC3"),
        (Nsec3Param, "NSEC3PARAM"), (Tlsa, "TLSA"), (Smimea, "SMIMEA"), (Cds, "CDS"), (Cdnskey, "CDNSKEY"),
        (Openpgpkey, "OPENPGPKEY"), (Csync, "CSYNC"), (Zonemd, "ZONEMD"), (Spf, "SPF"), (Nid, "NID"), (L32, "L32"),
        (L64, "L64"), (Lp, "LP"), (Eui48, "EUI48"), (Eui64, "EUI64"), (Uri, "URI"), (Caa, "CAA"), (Svcb, "SVCB"), (Https, "HTTPS"),
    ];

    private static readonly string?[] Mnemonics = BuildMnemonics();

    private static readonly string[] Numbered = [.. Enumerable.Range(0, 65536).Select(t => "TYPE" + t.ToString(CultureInfo.InvariantCulture))];

    private static readonly Dictionary<string, ushort>.AlternateLookup<ReadOnlySpan<char>> ByName =
        Known.ToDictionary(k => k.Name, k => k.Code, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The mnemonics accepted as such, for messages.</summary>
    public static string KnownList => string.Join(", ", Known.Select(k => k.Name));

    /// <summary>True when the type has a presentation form of its own (one of Knot's mnemonics).</summary>
    public static bool IsKnown(ushort type) => Mnemonics[type] is not null;

    /// <summary>"A", "CAA", … or "TYPE65534".</summary>
    public static string Name(ushort type) => Mnemonics[type] ?? Numbered[type];

    /// <summary>Parses a mnemonic (case-insensitive) or TYPEnnn.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ushort type)
    {
        if (ByName.TryGetValue(text, out type))
        {
            return true;
        }

        if (text.Length > 4 && text[..4].Equals("TYPE", StringComparison.OrdinalIgnoreCase)
            && ushort.TryParse(text[4..], NumberStyles.None, CultureInfo.InvariantCulture, out type))
        {
            return true;
        }

        type = 0;
        return false;
    }

    /// <summary>
    /// Types whose RDATA names are lower-cased in canonical form (RFC 4034 §6.2, as Knot does when it loads a zone); the
    /// others (NSEC's next name, SVCB/HTTPS targets, IPSECKEY gateways, LP) keep their case.
    /// </summary>
    public static bool LowerCasesNames(ushort type) =>
        type is Ns or Cname or Soa or Ptr or Minfo or Mx or Rp or Afsdb or Rt or Naptr or Kx or Srv or Dname or Rrsig;

    private static string?[] BuildMnemonics()
    {
        var names = new string?[65536];
        foreach (var (code, name) in Known)
        {
            names[code] = name;
        }

        return names;
    }
}
