using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// The canonical presentation form of RDATA, written from its wire form: the one text the zone parser stores for a
/// record, whatever form the zone file used (presentation or RFC 3597 <c>\# length hex</c>). It follows Knot's dump
/// (libknot rrset-dump.c) field by field, on one line: numbers in decimal, names absolute (escaped as Knot does:
/// letters, digits, '-', '_', '*' and '/' as they are, other punctuation after a '\', anything else as \DDD), strings
/// quoted, hex in upper case, base64 and base32hex unbroken, RRSIG times as YYYYMMDDHHmmSS, bitmaps as type mnemonics.
/// <see cref="TryAppend"/> refuses data that the zone parser would not read back to the same octets (malformed data,
/// or data the presentation form cannot spell, such as a LOC size that is not normalised): such records stay in the
/// RFC 3597 form, which always round-trips.
/// </summary>
public static class RdataText
{
    private const string Base32HexAlphabet = "0123456789abcdefghijklmnopqrstuv";
    private const uint LocZero = 0x80000000u;
    private const long LocAltZero = 10_000_000;

    /// <summary>Appends the canonical text of <paramref name="rdata"/> (type <paramref name="type"/>); false (text appended so far undefined) when it has none.</summary>
    public static bool TryAppend(ushort type, ReadOnlySpan<byte> rdata, StringBuilder sb)
    {
        var r = new Reader(rdata);
        var lower = RecordTypes.LowerCasesNames(type);
        switch (type)
        {
            case RecordTypes.A:
                return rdata.Length == 4 && Ipv4(ref r, sb);
            case RecordTypes.Aaaa:
                return rdata.Length == 16 && Ipv6(ref r, sb);
            case RecordTypes.Ns or RecordTypes.Cname or RecordTypes.Ptr or RecordTypes.Dname:
                return Name(ref r, sb, lower) && r.End;
            case RecordTypes.Soa:
                return Name(ref r, sb, lower) && Space(sb) && Name(ref r, sb, lower)
                    && U32(ref r, sb, true) && U32(ref r, sb, true) && U32(ref r, sb, true) && U32(ref r, sb, true) && U32(ref r, sb, true) && r.End;
            case RecordTypes.Hinfo:
                return Str(ref r, sb) && Space(sb) && Str(ref r, sb) && r.End;
            case RecordTypes.Minfo or RecordTypes.Rp:
                return Name(ref r, sb, lower) && Space(sb) && Name(ref r, sb, lower) && r.End;
            case RecordTypes.Mx or RecordTypes.Afsdb or RecordTypes.Rt or RecordTypes.Kx or RecordTypes.Lp:
                return U16(ref r, sb, false) && Space(sb) && Name(ref r, sb, lower) && r.End;
            case RecordTypes.Txt or RecordTypes.Spf:
                {
                    if (!Str(ref r, sb))
                    {
                        return false;
                    }

                    while (!r.End)
                    {
                        if (!(Space(sb) && Str(ref r, sb)))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            case RecordTypes.Key or RecordTypes.Dnskey or RecordTypes.Cdnskey:
                return U16(ref r, sb, false) && U8(ref r, sb, true) && U8(ref r, sb, true) && Space(sb) && Base64(ref r, sb);
            case RecordTypes.Loc:
                return Loc(rdata, sb);
            case RecordTypes.Srv:
                return U16(ref r, sb, false) && U16(ref r, sb, true) && U16(ref r, sb, true) && Space(sb) && Name(ref r, sb, lower) && r.End;
            case RecordTypes.Naptr:
                return U16(ref r, sb, false) && U16(ref r, sb, true) && Space(sb) && Str(ref r, sb) && Space(sb) && Str(ref r, sb) && Space(sb) && Str(ref r, sb)
                    && Space(sb) && Name(ref r, sb, lower) && r.End;
            case RecordTypes.Cert:
                return U16(ref r, sb, false) && U16(ref r, sb, true) && U8(ref r, sb, true) && Space(sb) && Base64(ref r, sb);
            case RecordTypes.Apl:
                return Apl(ref r, sb);
            case RecordTypes.Ds or RecordTypes.Cds:
                return U16(ref r, sb, false) && U8(ref r, sb, true) && U8(ref r, sb, true) && Space(sb) && Hex(ref r, sb);
            case RecordTypes.Sshfp:
                return U8(ref r, sb, false) && U8(ref r, sb, true) && Space(sb) && Hex(ref r, sb);
            case RecordTypes.Ipseckey:
                return Ipseckey(ref r, sb);
            case RecordTypes.Rrsig:
                return TypeName(ref r, sb) && U8(ref r, sb, true) && U8(ref r, sb, true) && U32(ref r, sb, true) && Space(sb) && Time(ref r, sb)
                    && Space(sb) && Time(ref r, sb) && U16(ref r, sb, true) && Space(sb) && Name(ref r, sb, lower) && Space(sb) && Base64(ref r, sb);
            case RecordTypes.Nsec:
                return Name(ref r, sb, lower) && Bitmap(ref r, sb);
            case RecordTypes.Dhcid or RecordTypes.Openpgpkey:
                return Base64(ref r, sb);
            case RecordTypes.Nsec3:
                return U8(ref r, sb, false) && U8(ref r, sb, true) && U16(ref r, sb, true) && Space(sb) && Salt(ref r, sb) && Space(sb) && Hash(ref r, sb) && Bitmap(ref r, sb);
            case RecordTypes.Nsec3Param:
                return U8(ref r, sb, false) && U8(ref r, sb, true) && U16(ref r, sb, true) && Space(sb) && Salt(ref r, sb) && r.End;
            case RecordTypes.Tlsa or RecordTypes.Smimea:
                return U8(ref r, sb, false) && U8(ref r, sb, true) && U8(ref r, sb, true) && Space(sb) && Hex(ref r, sb);
            case RecordTypes.Csync:
                return U32(ref r, sb, false) && U16(ref r, sb, true) && Bitmap(ref r, sb);
            case RecordTypes.Zonemd:
                return U32(ref r, sb, false) && U8(ref r, sb, true) && U8(ref r, sb, true) && Space(sb) && Hex(ref r, sb);
            case RecordTypes.Nid or RecordTypes.L64:
                return rdata.Length == 10 && U16(ref r, sb, false) && Space(sb) && Groups(ref r, sb, 4, 2, ':');
            case RecordTypes.L32:
                return rdata.Length == 6 && U16(ref r, sb, false) && Space(sb) && Ipv4(ref r, sb);
            case RecordTypes.Eui48:
                return rdata.Length == 6 && Groups(ref r, sb, 6, 1, '-');
            case RecordTypes.Eui64:
                return rdata.Length == 8 && Groups(ref r, sb, 8, 1, '-');
            case RecordTypes.Uri:
                return U16(ref r, sb, false) && U16(ref r, sb, true) && Space(sb) && Quoted(r.Rest(), sb);
            case RecordTypes.Caa:
                return U8(ref r, sb, false) && Space(sb) && CaaTag(ref r, sb) && Space(sb) && Quoted(r.Rest(), sb);
            case RecordTypes.Svcb or RecordTypes.Https:
                return Svcb(ref r, sb);
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether the octets fit the layout Knot writes the type with (libknot descriptor.c: fixed-size fields, names,
    /// the NAPTR header, the rest). Knot loads RFC 3597 data that does not fit, but then answers SERVFAIL for the name
    /// and fails every transfer of the zone, so such data is refused. Types laid out as "the rest" take any octets.
    /// </summary>
    public static bool FitsKnotLayout(ushort type, ReadOnlySpan<byte> rdata)
    {
        var r = new Reader(rdata);
        return type switch
        {
            RecordTypes.A => rdata.Length == 4,
            RecordTypes.Aaaa => rdata.Length == 16,
            RecordTypes.Loc => rdata.Length == 16,
            RecordTypes.Nid or RecordTypes.L64 => rdata.Length == 10,
            RecordTypes.L32 or RecordTypes.Eui48 => rdata.Length == 6,
            RecordTypes.Eui64 => rdata.Length == 8,
            RecordTypes.Ns or RecordTypes.Cname or RecordTypes.Ptr or RecordTypes.Dname => SkipName(ref r) && r.End,
            RecordTypes.Soa => SkipName(ref r) && SkipName(ref r) && r.TryTake(20, out _) && r.End,
            RecordTypes.Minfo or RecordTypes.Rp => SkipName(ref r) && SkipName(ref r) && r.End,
            RecordTypes.Mx or RecordTypes.Afsdb or RecordTypes.Rt or RecordTypes.Kx or RecordTypes.Lp => r.TryTake(2, out _) && SkipName(ref r) && r.End,
            RecordTypes.Srv => r.TryTake(6, out _) && SkipName(ref r) && r.End,
            RecordTypes.Naptr => r.TryTake(4, out _) && SkipString(ref r) && SkipString(ref r) && SkipString(ref r) && SkipName(ref r) && r.End,
            RecordTypes.Rrsig or 24 => r.TryTake(18, out _) && SkipName(ref r),
            RecordTypes.Nsec or 249 or 250 => SkipName(ref r),
            _ => true,
        };
    }

    private static bool SkipName(ref Reader r)
    {
        var sb = new StringBuilder();
        if (!AppendName(r.Rest(), sb, lower: false, out var length))
        {
            return false;
        }

        r.Skip(length);
        return true;
    }

    private static bool SkipString(ref Reader r) => r.TryU8(out var n) && r.TryTake(n, out _);

    /// <summary>The RFC 3597 form: <c>\# length HEX</c> (<c>\# 0</c> when empty).</summary>
    public static void AppendGeneric(ReadOnlySpan<byte> rdata, StringBuilder sb)
    {
        sb.Append("\\# ").Append(rdata.Length);
        if (rdata.Length > 0)
        {
            sb.Append(' ');
            AppendHex(rdata, sb);
        }
    }

    /// <summary>Upper-case hex of <paramref name="bytes"/>.</summary>
    public static void AppendHex(ReadOnlySpan<byte> bytes, StringBuilder sb)
    {
        const string digits = "0123456789ABCDEF";
        foreach (var b in bytes)
        {
            sb.Append(digits[b >> 4]).Append(digits[b & 15]);
        }
    }

    /// <summary>
    /// Appends a wire-format name (uncompressed labels ending in the root label) as canonical text; false when it is
    /// malformed. <paramref name="lower"/>: write A-Z as a-z.
    /// </summary>
    public static bool AppendName(ReadOnlySpan<byte> wire, StringBuilder sb, bool lower, out int length)
    {
        Span<char> text = stackalloc char[1024];
        var n = WriteName(wire, text, lower, out length);
        if (n < 0)
        {
            return false;
        }

        sb.Append(text[..n]);
        return true;
    }

    /// <summary>
    /// Writes a wire-format name as canonical text, as Knot writes it (knot_dname_to_str: letters, digits, '-', '_', '*'
    /// and '/' as they are, other punctuation but '#' after a '\', the rest as \DDD), into <paramref name="dest"/> (at
    /// least 1024 characters); the number of characters, or -1 when the name is malformed.
    /// </summary>
    public static int WriteName(ReadOnlySpan<byte> wire, Span<char> dest, bool lower, out int length)
    {
        length = 0;
        var n = 0;
        var i = 0;
        while (true)
        {
            if (i >= wire.Length)
            {
                return -1;
            }

            int label = wire[i];
            if (label == 0)
            {
                if (i == 0)
                {
                    dest[n++] = '.';
                }

                length = i + 1;
                return length <= 255 ? n : -1;
            }

            if (label > 63 || i + 1 + label > wire.Length)
            {
                return -1;
            }

            for (var k = i + 1; k <= i + label; k++)
            {
                var c = wire[k];
                if (lower && c is >= (byte)'A' and <= (byte)'Z')
                {
                    c = (byte)(c + 32);
                }

                if (char.IsAsciiLetterOrDigit((char)c) || c is (byte)'-' or (byte)'_' or (byte)'*' or (byte)'/')
                {
                    dest[n++] = (char)c;
                }
                else if (c is > 32 and < 127 && c != (byte)'#')
                {
                    dest[n++] = '\\';
                    dest[n++] = (char)c;
                }
                else
                {
                    dest[n++] = '\\';
                    dest[n++] = (char)('0' + (c / 100));
                    dest[n++] = (char)('0' + (c / 10 % 10));
                    dest[n++] = (char)('0' + (c % 10));
                }
            }

            dest[n++] = '.';
            i += label + 1;
        }
    }

    /// <summary>A character-string's octets as a quoted string: <c>"</c> and <c>\</c> escaped, printable ASCII as is, the rest \DDD.</summary>
    public static bool Quoted(ReadOnlySpan<byte> text, StringBuilder sb)
    {
        sb.Append('"');
        foreach (var b in text)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                sb.Append('\\').Append((char)b);
            }
            else if (b is >= 0x20 and < 0x7F)
            {
                sb.Append((char)b);
            }
            else
            {
                AppendDecimalEscape(b, sb);
            }
        }

        sb.Append('"');
        return true;
    }

    /// <summary>Base32hex (RFC 4648 §7), lower case, with padding, as Knot writes NSEC3 hashes.</summary>
    public static void AppendBase32Hex(ReadOnlySpan<byte> data, StringBuilder sb)
    {
        Span<byte> block = stackalloc byte[5];
        for (var i = 0; i < data.Length; i += 5)
        {
            block.Clear();
            var n = Math.Min(5, data.Length - i);
            data.Slice(i, n).CopyTo(block);
            ulong bits = ((ulong)block[0] << 32) | ((ulong)block[1] << 24) | ((ulong)block[2] << 16) | ((ulong)block[3] << 8) | block[4];
            var chars = n switch { 1 => 2, 2 => 4, 3 => 5, 4 => 7, _ => 8 };
            for (var k = 0; k < 8; k++)
            {
                sb.Append(k < chars ? Base32HexAlphabet[(int)((bits >> (35 - (5 * k))) & 31)] : '=');
            }
        }
    }

    private static void AppendDecimalEscape(byte b, StringBuilder sb) =>
        sb.Append('\\').Append((char)('0' + (b / 100))).Append((char)('0' + (b / 10 % 10))).Append((char)('0' + (b % 10)));

    private static bool Space(StringBuilder sb)
    {
        sb.Append(' ');
        return true;
    }

    private static bool U8(ref Reader r, StringBuilder sb, bool space)
    {
        if (!r.TryU8(out var v))
        {
            return false;
        }

        (space ? sb.Append(' ') : sb).Append(v);
        return true;
    }

    private static bool U16(ref Reader r, StringBuilder sb, bool space)
    {
        if (!r.TryU16(out var v))
        {
            return false;
        }

        (space ? sb.Append(' ') : sb).Append(v);
        return true;
    }

    private static bool U32(ref Reader r, StringBuilder sb, bool space)
    {
        if (!r.TryU32(out var v))
        {
            return false;
        }

        (space ? sb.Append(' ') : sb).Append(v);
        return true;
    }

    private static bool Ipv4(ref Reader r, StringBuilder sb)
    {
        if (!r.TryTake(4, out var b))
        {
            return false;
        }

        sb.Append(b[0]).Append('.').Append(b[1]).Append('.').Append(b[2]).Append('.').Append(b[3]);
        return true;
    }

    private static bool Ipv6(ref Reader r, StringBuilder sb)
    {
        if (!r.TryTake(16, out var b))
        {
            return false;
        }

        sb.Append(new IPAddress(b).ToString());
        return true;
    }

    private static bool Name(ref Reader r, StringBuilder sb, bool lower)
    {
        if (!AppendName(r.Rest(), sb, lower, out var length))
        {
            return false;
        }

        r.Skip(length);
        return true;
    }

    private static bool Str(ref Reader r, StringBuilder sb) => r.TryU8(out var n) && r.TryTake(n, out var text) && Quoted(text, sb);

    /// <summary>The rest as hex; the presentation form cannot spell it empty.</summary>
    private static bool Hex(ref Reader r, StringBuilder sb)
    {
        var rest = r.Rest();
        if (rest.IsEmpty)
        {
            return false;
        }

        AppendHex(rest, sb);
        r.Skip(rest.Length);
        return true;
    }

    /// <summary>The rest as base64; the presentation form cannot spell it empty.</summary>
    private static bool Base64(ref Reader r, StringBuilder sb)
    {
        var rest = r.Rest();
        if (rest.IsEmpty)
        {
            return false;
        }

        sb.Append(Convert.ToBase64String(rest));
        r.Skip(rest.Length);
        return true;
    }

    private static bool TypeName(ref Reader r, StringBuilder sb)
    {
        if (!r.TryU16(out var type))
        {
            return false;
        }

        sb.Append(RecordTypes.Name(type));
        return true;
    }

    private static bool Time(ref Reader r, StringBuilder sb)
    {
        if (!r.TryU32(out var seconds))
        {
            return false;
        }

        sb.Append(DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>
    /// A type bitmap (RFC 4034 §4.1.2) as a space-led list of type names. Only the form the parser writes reads back the
    /// same: windows in increasing order, each 1 to 32 octets, the last octet not zero.
    /// </summary>
    private static bool Bitmap(ref Reader r, StringBuilder sb)
    {
        var last = -1;
        while (!r.End)
        {
            if (!r.TryU8(out var window) || !r.TryU8(out var length) || window <= last || length is 0 or > 32 || !r.TryTake(length, out var bits) || bits[^1] == 0)
            {
                return false;
            }

            last = window;
            for (var j = 0; j < length * 8; j++)
            {
                if ((bits[j / 8] & (0x80 >> (j % 8))) != 0)
                {
                    sb.Append(' ').Append(RecordTypes.Name((ushort)((window * 256) + j)));
                }
            }
        }

        return true;
    }

    /// <summary>An NSEC3 salt: length octet and hex, '-' when empty.</summary>
    private static bool Salt(ref Reader r, StringBuilder sb)
    {
        if (!r.TryU8(out var n) || !r.TryTake(n, out var salt))
        {
            return false;
        }

        if (n == 0)
        {
            sb.Append('-');
        }
        else
        {
            AppendHex(salt, sb);
        }

        return true;
    }

    private static bool Hash(ref Reader r, StringBuilder sb)
    {
        if (!r.TryU8(out var n) || n == 0 || !r.TryTake(n, out var hash))
        {
            return false;
        }

        AppendBase32Hex(hash, sb);
        return true;
    }

    private static bool Groups(ref Reader r, StringBuilder sb, int groups, int size, char separator)
    {
        for (var g = 0; g < groups; g++)
        {
            if (!r.TryTake(size, out var bytes))
            {
                return false;
            }

            if (g > 0)
            {
                sb.Append(separator);
            }

            AppendHex(bytes, sb);
        }

        return r.End;
    }

    /// <summary>A CAA tag: bare when letters and digits (the usual issue, issuewild, iodef), else quoted.</summary>
    private static bool CaaTag(ref Reader r, StringBuilder sb)
    {
        if (!r.TryU8(out var n) || !r.TryTake(n, out var tag))
        {
            return false;
        }

        var bare = n > 0;
        foreach (var b in tag)
        {
            bare &= char.IsAsciiLetterOrDigit((char)b);
        }

        if (!bare)
        {
            return Quoted(tag, sb);
        }

        foreach (var b in tag)
        {
            sb.Append((char)b);
        }

        return true;
    }

    /// <summary>APL items (RFC 3123): <c>[!]family:address/prefix</c>; the address part without trailing zero octets, as the parser writes it.</summary>
    private static bool Apl(ref Reader r, StringBuilder sb)
    {
        var first = true;
        Span<byte> address = stackalloc byte[16];
        while (!r.End)
        {
            if (!r.TryU16(out var family) || !r.TryU8(out var prefix) || !r.TryU8(out var nlen))
            {
                return false;
            }

            var negate = (nlen & 0x80) != 0;
            var length = nlen & 0x7F;
            var size = family switch { 1 => 4, 2 => 16, _ => 0 };
            if (size == 0 || length > size || prefix > size * 8 || !r.TryTake(length, out var part) || (length > 0 && part[^1] == 0))
            {
                return false;
            }

            if (!first)
            {
                sb.Append(' ');
            }

            first = false;
            address.Clear();
            part.CopyTo(address);
            sb.Append(negate ? "!" : string.Empty).Append(family).Append(':')
                .Append(size == 4 ? new IPAddress(address[..4]).ToString() : new IPAddress(address).ToString()).Append('/').Append(prefix);
        }

        return true;
    }

    private static bool Ipseckey(ref Reader r, StringBuilder sb)
    {
        if (!U8(ref r, sb, false) || !r.TryU8(out var gatewayType) || !r.TryU8(out var algorithm) || gatewayType > 3)
        {
            return false;
        }

        sb.Append(' ').Append(gatewayType).Append(' ').Append(algorithm).Append(' ');
        var ok = gatewayType switch
        {
            0 => sb.Append('.') is not null,
            1 => Ipv4(ref r, sb),
            2 => Ipv6(ref r, sb),
            _ => Name(ref r, sb, lower: false),
        };
        if (!ok)
        {
            return false;
        }

        return algorithm == 0 || r.End ? r.End : Space(sb) && Base64(ref r, sb);
    }

    /// <summary>LOC (RFC 1876), version 0: only normalised sizes and latitudes the parser can write (at most 90°, longitudes at most 180°).</summary>
    private static bool Loc(ReadOnlySpan<byte> rdata, StringBuilder sb)
    {
        if (rdata.Length != 16 || rdata[0] != 0)
        {
            return false;
        }

        Span<ulong> sizes = stackalloc ulong[3];
        for (var k = 0; k < 3; k++)
        {
            var b = rdata[1 + k];
            int mantissa = b >> 4, exponent = b & 15;
            if (mantissa > 9 || exponent > 9 || (mantissa == 0 && exponent != 0))
            {
                return false;
            }

            sizes[k] = (ulong)mantissa * (ulong)Math.Pow(10, exponent);
        }

        var lat = BinaryPrimitives.ReadUInt32BigEndian(rdata[4..]);
        var lon = BinaryPrimitives.ReadUInt32BigEndian(rdata[8..]);
        var alt = BinaryPrimitives.ReadUInt32BigEndian(rdata[12..]);
        if (!Angle(lat, 90, 'N', 'S', sb))
        {
            return false;
        }

        sb.Append(' ');
        if (!Angle(lon, 180, 'E', 'W', sb))
        {
            return false;
        }

        sb.Append(' ');
        Centimetres((long)alt - LocAltZero, sb);
        for (var k = 0; k < 3; k++)
        {
            sb.Append(' ');
            Centimetres((long)sizes[k], sb);
        }

        return true;
    }

    private static bool Angle(uint value, uint maxDegrees, char positive, char negative, StringBuilder sb)
    {
        var mark = value >= LocZero ? positive : negative;
        var ms = value >= LocZero ? value - LocZero : LocZero - value;
        var degrees = ms / 3_600_000;
        if (degrees > maxDegrees)
        {
            return false;
        }

        var minutes = (ms % 3_600_000) / 60_000;
        var millis = ms % 60_000;
        sb.Append(degrees).Append(' ').Append(minutes).Append(' ').Append(millis / 1000);
        if (millis % 1000 != 0)
        {
            sb.Append('.').Append((millis % 1000).ToString("D3", CultureInfo.InvariantCulture));
        }

        sb.Append(' ').Append(mark);
        return true;
    }

    /// <summary>Centimetres as metres: <c>12m</c>, <c>-3.05m</c>.</summary>
    private static void Centimetres(long cm, StringBuilder sb)
    {
        if (cm < 0)
        {
            sb.Append('-');
            cm = -cm;
        }

        sb.Append(cm / 100);
        if (cm % 100 != 0)
        {
            sb.Append('.').Append((cm % 100).ToString("D2", CultureInfo.InvariantCulture));
        }

        sb.Append('m');
    }

    /// <summary>SVCB/HTTPS (RFC 9460) as Knot 3.2 reads it: keys in increasing order, known keys with well-formed values, mandatory keys present.</summary>
    private static bool Svcb(ref Reader r, StringBuilder sb)
    {
        if (!U16(ref r, sb, false) || !Space(sb) || !Name(ref r, sb, lower: false))
        {
            return false;
        }

        var params0 = r.Rest();
        var last = -1;
        var keys = new List<ushort>();
        ReadOnlySpan<byte> mandatory = default;
        while (!r.End)
        {
            if (!r.TryU16(out var key) || !r.TryU16(out var length) || key <= last || !r.TryTake(length, out var value))
            {
                return false;
            }

            last = key;
            keys.Add(key);
            sb.Append(' ').Append(SvcKeyName(key));
            switch (key)
            {
                case 0:
                    if (length == 0 || length % 2 != 0)
                    {
                        return false;
                    }

                    mandatory = value;
                    sb.Append('=');
                    for (var i = 0; i < length; i += 2)
                    {
                        var k = BinaryPrimitives.ReadUInt16BigEndian(value[i..]);
                        if (k == 0 || (i > 0 && k <= BinaryPrimitives.ReadUInt16BigEndian(value[(i - 2)..])))
                        {
                            return false;
                        }

                        sb.Append(i > 0 ? "," : string.Empty).Append(SvcKeyName(k));
                    }

                    break;
                case 1:
                    {
                        if (length == 0)
                        {
                            return false;
                        }

                        sb.Append('=');
                        var v = new Reader(value);
                        var first = true;
                        while (!v.End)
                        {
                            if (!v.TryU8(out var n) || n == 0 || !v.TryTake(n, out var id))
                            {
                                return false;
                            }

                            foreach (var b in id)
                            {
                                // Commas and backslashes need Knot's double escaping inside a list: leave those to RFC 3597.
                                if (b is <= 0x20 or >= 0x7F or (byte)',' or (byte)'\\' or (byte)'"' or (byte)';' or (byte)'(' or (byte)')')
                                {
                                    return false;
                                }
                            }

                            sb.Append(first ? string.Empty : ",").Append(Encoding.ASCII.GetString(id));
                            first = false;
                        }

                        break;
                    }

                case 2:
                    if (length != 0)
                    {
                        return false;
                    }

                    break;
                case 3:
                    if (length != 2)
                    {
                        return false;
                    }

                    sb.Append('=').Append(BinaryPrimitives.ReadUInt16BigEndian(value));
                    break;
                case 4 or 6:
                    {
                        var size = key == 4 ? 4 : 16;
                        if (length == 0 || length % size != 0)
                        {
                            return false;
                        }

                        sb.Append('=');
                        for (var i = 0; i < length; i += size)
                        {
                            sb.Append(i > 0 ? "," : string.Empty).Append(new IPAddress(value.Slice(i, size)).ToString());
                        }

                        break;
                    }

                case 5:
                    if (length == 0)
                    {
                        return false;
                    }

                    sb.Append('=').Append(Convert.ToBase64String(value));
                    break;
                default:
                    if (length > 0)
                    {
                        sb.Append('=');
                        Quoted(value, sb);
                    }

                    break;
            }
        }

        // Every mandatory key must be present (and mandatory cannot name itself, checked above).
        for (var i = 0; i < mandatory.Length; i += 2)
        {
            if (!keys.Contains(BinaryPrimitives.ReadUInt16BigEndian(mandatory[i..])))
            {
                return false;
            }
        }

        return params0.Length >= 0;
    }

    /// <summary>SvcParamKey names Knot 3.2 reads (key0 to key6 by name, any other as keyNNNNN).</summary>
    public static string SvcKeyName(ushort key) => key switch
    {
        0 => "mandatory",
        1 => "alpn",
        2 => "no-default-alpn",
        3 => "port",
        4 => "ipv4hint",
        5 => "ech",
        6 => "ipv6hint",
        _ => "key" + key.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A cursor over wire data.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool End => _pos == _data.Length;

        public readonly ReadOnlySpan<byte> Rest() => _data[_pos..];

        public void Skip(int n) => _pos += n;

        public bool TryU8(out byte value)
        {
            value = 0;
            if (_pos + 1 > _data.Length)
            {
                return false;
            }

            value = _data[_pos++];
            return true;
        }

        public bool TryU16(out ushort value)
        {
            value = 0;
            if (_pos + 2 > _data.Length)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_data[_pos..]);
            _pos += 2;
            return true;
        }

        public bool TryU32(out uint value)
        {
            value = 0;
            if (_pos + 4 > _data.Length)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt32BigEndian(_data[_pos..]);
            _pos += 4;
            return true;
        }

        public bool TryTake(int n, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (_pos + n > _data.Length)
            {
                return false;
            }

            value = _data.Slice(_pos, n);
            _pos += n;
            return true;
        }
    }
}
