using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// RDATA in presentation form → wire form, type by type as Knot 3.2's zone scanner reads it (libzscanner
/// scanner_body.rl: the same fields, separators, number ranges, escapes and mnemonics), then the canonical text from
/// the wire form (<see cref="RdataText"/>). Errors name the type, the owner and the field.
/// </summary>
public sealed partial class ZoneFileParser
{
    private ushort _rType;
    private string _rOwner = string.Empty;

    /// <summary>The canonical RDATA of the tokens from <paramref name="from"/>, or null after recording an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? Rdata(ushort type, int from, string owner)
    {
        _rType = type;
        _rOwner = owner;
        var count = _tokens.Count - from;
        if (type is not (RecordTypes.Svcb or RecordTypes.Https))
        {
            for (var k = from; k < _tokens.Count; k++)
            {
                if (_tokens[k].Joined)
                {
                    Fail($"a quote right next to other text ('{Span(_tokens[k - 1])}{Span(_tokens[k])}'): separate the fields with a blank, or quote the whole field");
                    return null;
                }
            }
        }

        if (count >= 1 && !_tokens[from].Quoted && Span(_tokens[from]).SequenceEqual("\\#"))
        {
            return Generic(from, count);
        }

        if (type == RecordTypes.A && count == 1 && !_tokens[from].Quoted)
        {
            var t = Span(_tokens[from]);
            return TryIPv4(t, default) ? new string(t) : Fail<string>($"'{t}' is not an IPv4 address");
        }

        _wn = 0;
        var ok = type switch
        {
            RecordTypes.A => Fields(count, 1, 1, "an IPv4 address") && WIpv4(from),
            RecordTypes.Aaaa => Fields(count, 1, 1, "an IPv6 address") && WIpv6(from),
            RecordTypes.Ns or RecordTypes.Cname or RecordTypes.Ptr or RecordTypes.Dname =>
                Fields(count, 1, 1, "one domain name") && WName(from, "target"),
            RecordTypes.Soa => Fields(count, 7, 7, "primary name server, mailbox, serial, refresh, retry, expire and minimum")
                && WName(from, "primary name server") && WName(from + 1, "mailbox") && WNumber(from + 2, 4, "serial")
                && WTime(from + 3, "refresh") && WTime(from + 4, "retry") && WTime(from + 5, "expire") && WTime(from + 6, "minimum"),
            RecordTypes.Hinfo => Fields(count, 2, 2, "CPU and OS strings") && WString(from, "CPU") && WString(from + 1, "OS"),
            RecordTypes.Minfo => Fields(count, 2, 2, "two mailbox names") && WName(from, "responsible mailbox") && WName(from + 1, "error mailbox"),
            RecordTypes.Rp => Fields(count, 2, 2, "a mailbox and a TXT name") && WName(from, "mailbox") && WName(from + 1, "TXT name"),
            RecordTypes.Mx => Fields(count, 2, 2, "a preference and a mail exchanger name") && WNumber(from, 2, "preference") && WName(from + 1, "exchange"),
            RecordTypes.Afsdb or RecordTypes.Rt or RecordTypes.Kx or RecordTypes.Lp =>
                Fields(count, 2, 2, "a number and a domain name") && WNumber(from, 2, type == RecordTypes.Afsdb ? "subtype" : "preference") && WName(from + 1, "host"),
            RecordTypes.Txt or RecordTypes.Spf => Fields(count, 1, int.MaxValue, "one or more strings") && WStrings(from),
            RecordTypes.Key or RecordTypes.Dnskey or RecordTypes.Cdnskey =>
                Fields(count, 4, int.MaxValue, "flags, protocol, algorithm and the key in base64")
                && WNumber(from, 2, "flags") && WNumber(from + 1, 1, "protocol") && WAlgorithm(from + 2) && WBase64(from + 3, "key"),
            RecordTypes.Loc => Loc(from, count),
            RecordTypes.Srv => Fields(count, 4, 4, "priority, weight, port and target")
                && WNumber(from, 2, "priority") && WNumber(from + 1, 2, "weight") && WNumber(from + 2, 2, "port") && WName(from + 3, "target"),
            RecordTypes.Naptr => Fields(count, 6, 6, "order, preference, flags, services, regexp and replacement")
                && WNumber(from, 2, "order") && WNumber(from + 1, 2, "preference") && WString(from + 2, "flags") && WString(from + 3, "services")
                && WString(from + 4, "regexp") && WName(from + 5, "replacement"),
            RecordTypes.Cert => Fields(count, 4, int.MaxValue, "type, key tag, algorithm and the certificate in base64")
                && WCertType(from) && WNumber(from + 1, 2, "key tag") && WAlgorithm(from + 2) && WBase64(from + 3, "certificate"),
            RecordTypes.Apl => Apl(from, count),
            RecordTypes.Ds or RecordTypes.Cds => Fields(count, 4, int.MaxValue, "key tag, algorithm, digest type and digest")
                && WNumber(from, 2, "key tag") && WAlgorithm(from + 1) && WNumber(from + 2, 1, "digest type") && WHex(from + 3, "digest"),
            RecordTypes.Sshfp => Fields(count, 3, int.MaxValue, "algorithm, fingerprint type and fingerprint")
                && WNumber(from, 1, "algorithm") && WNumber(from + 1, 1, "fingerprint type") && WHex(from + 2, "fingerprint"),
            RecordTypes.Ipseckey => Ipseckey(from, count),
            RecordTypes.Rrsig => Fields(count, 9, int.MaxValue, "type covered, algorithm, labels, original TTL, expiration, inception, key tag, signer and signature")
                && WType(from) && WAlgorithm(from + 1) && WNumber(from + 2, 1, "labels") && WNumber(from + 3, 4, "original TTL")
                && WTimestamp(from + 4, "expiration") && WTimestamp(from + 5, "inception") && WNumber(from + 6, 2, "key tag")
                && WName(from + 7, "signer") && WBase64(from + 8, "signature"),
            RecordTypes.Nsec => Fields(count, 1, int.MaxValue, "the next owner name and the types present") && WName(from, "next owner", lower: false) && WBitmap(from + 1),
            RecordTypes.Dhcid or RecordTypes.Openpgpkey => Fields(count, 1, int.MaxValue, "base64 data") && WBase64(from, "data"),
            RecordTypes.Nsec3 => Fields(count, 5, int.MaxValue, "hash algorithm, flags, iterations, salt, next hashed owner and the types present")
                && WNumber(from, 1, "hash algorithm") && WNumber(from + 1, 1, "flags") && WNumber(from + 2, 2, "iterations") && WSalt(from + 3)
                && WHash(from + 4) && WBitmap(from + 5),
            RecordTypes.Nsec3Param => Fields(count, 4, 4, "hash algorithm, flags, iterations and salt")
                && WNumber(from, 1, "hash algorithm") && WNumber(from + 1, 1, "flags") && WNumber(from + 2, 2, "iterations") && WSalt(from + 3),
            RecordTypes.Tlsa or RecordTypes.Smimea => Fields(count, 4, int.MaxValue, "usage, selector, matching type and data")
                && WNumber(from, 1, "usage") && WNumber(from + 1, 1, "selector") && WNumber(from + 2, 1, "matching type") && WHex(from + 3, "data"),
            RecordTypes.Csync => Fields(count, 2, int.MaxValue, "SOA serial, flags and the types to synchronise")
                && WNumber(from, 4, "SOA serial") && WNumber(from + 1, 2, "flags") && WBitmap(from + 2),
            RecordTypes.Zonemd => Fields(count, 4, int.MaxValue, "serial, scheme, hash algorithm and digest")
                && WNumber(from, 4, "serial") && WNumber(from + 1, 1, "scheme") && WNumber(from + 2, 1, "hash algorithm") && WHex(from + 3, "digest"),
            RecordTypes.Nid or RecordTypes.L64 => Fields(count, 2, 2, "a preference and a 64-bit locator (xxxx:xxxx:xxxx:xxxx)")
                && WNumber(from, 2, "preference") && WHexGroups(from + 1, 4, 2, ':', "locator"),
            RecordTypes.L32 => Fields(count, 2, 2, "a preference and a 32-bit locator (an IPv4 address)") && WNumber(from, 2, "preference") && WIpv4(from + 1),
            RecordTypes.Eui48 => Fields(count, 1, 1, "an EUI-48 address (xx-xx-xx-xx-xx-xx)") && WHexGroups(from, 6, 1, '-', "address"),
            RecordTypes.Eui64 => Fields(count, 1, 1, "an EUI-64 address (xx-xx-xx-xx-xx-xx-xx-xx)") && WHexGroups(from, 8, 1, '-', "address"),
            RecordTypes.Uri => Fields(count, 3, 3, "priority, weight and target") && WNumber(from, 2, "priority") && WNumber(from + 1, 2, "weight")
                && WText(from + 2, "target"),
            RecordTypes.Caa => Fields(count, 3, 3, "flags, tag and value") && WNumber(from, 1, "flags") && WString(from + 1, "tag") && WText(from + 2, "value")
                && CaaTagHint(from + 1),
            RecordTypes.Svcb or RecordTypes.Https => Svcb(from, count),
            _ => Fail($"type {RecordTypes.Name(type)} has no presentation form: write its data as RFC 3597 \\# <length> <hex>"),
        };
        if (!ok)
        {
            return null;
        }

        if (type == RecordTypes.Tlsa)
        {
            TlsaHint();
        }

        var wire = _w.AsSpan(0, _wn);
        _sb.Clear();
        if (RdataText.TryAppend(type, wire, _sb))
        {
            return _sb.ToString();
        }

        // Knot reads it, but no presentation form spells these octets back: keep the octets (RFC 3597).
        _sb.Clear();
        RdataText.AppendGeneric(wire, _sb);
        Warn(_entryLine, $"{RecordTypes.Name(type)} record '{Display(owner)}': stored as RFC 3597 data ({_sb}): its data has no canonical {RecordTypes.Name(type)} form");
        return _sb.ToString();
    }

    /// <summary>
    /// RFC 3597: <c>\# length hex</c>, read for every type (RFC 3597 §5). The octets are written in the type's own
    /// presentation form when they are valid data of that type; otherwise they stay in the RFC 3597 form (Knot serves
    /// them as they are), with a warning for a type that has a form of its own.
    /// </summary>
    private string? Generic(int from, int count)
    {
        if (count < 2)
        {
            return Fail<string>("RFC 3597 data needs a length: \\# <length> <hex>");
        }

        var lengthToken = _tokens[from + 1];
        var lengthText = Span(lengthToken);
        if (lengthToken.Quoted || !ushort.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return Fail<string>($"RFC 3597 length '{lengthText}' is not a number from 0 to 65535");
        }

        var known = RecordTypes.IsKnown(_rType);
        if (count == 2 && lengthText.SequenceEqual("0"))
        {
            if (known && _rType != RecordTypes.Apl)
            {
                return Fail<string>($"RFC 3597 data of a {RecordTypes.Name(_rType)} record cannot be empty");
            }

            _wn = 0;
        }
        else
        {
            _wn = 0;
            if (count == 2)
            {
                return Fail<string>(length == 0 ? "write empty RFC 3597 data as \\# 0" : $"RFC 3597 length {length} needs {length} octets of hex data after it");
            }

            if (!WHex(from + 2, "RFC 3597 data"))
            {
                return null;
            }

            if (_wn != length)
            {
                return Fail<string>($"RFC 3597 length {length} does not match the {_wn} octets of data");
            }
        }

        var wire = _w.AsSpan(0, _wn);
        if (!RdataText.FitsKnotLayout(_rType, wire))
        {
            return Fail<string>($"its RFC 3597 data ({_wn} octets) is not a {RecordTypes.Name(_rType)} record: Knot would load the zone but answer SERVFAIL for this name and fail every transfer of the zone");
        }

        _sb.Clear();
        if (known && RdataText.TryAppend(_rType, wire, _sb))
        {
            return _sb.ToString();
        }

        _sb.Clear();
        RdataText.AppendGeneric(wire, _sb);
        if (known)
        {
            Warn(_entryLine, $"{RecordTypes.Name(_rType)} record '{Display(_rOwner)}': its RFC 3597 data has no {RecordTypes.Name(_rType)} presentation form: kept as RFC 3597 data (Knot serves it as it is)");
        }
        else if (_rType is 0 or 41 or (>= 128 and <= 255))
        {
            Warn(_entryLine, $"{RecordTypes.Name(_rType)} record '{Display(_rOwner)}': type {_rType} is a meta or query type, not data (Knot loads it; resolvers will not see it as a record)");
        }

        return _sb.ToString();
    }

    private bool Fail(string detail)
    {
        Error($"{RecordTypes.Name(_rType)} record '{Display(_rOwner)}': {detail}");
        return false;
    }

    private T? Fail<T>(string detail)
        where T : class
    {
        Fail(detail);
        return null;
    }

    private bool Fields(int count, int min, int max, string what) =>
        (count >= min && count <= max) || Fail($"expects {what}, got {count} field{(count == 1 ? string.Empty : "s")}");

    /// <summary>A field that is not a string: quotes are not allowed.</summary>
    private bool Plain(int k, string what) =>
        !_tokens[k].Quoted || Fail($"{what} {Span(_tokens[k])} must not be quoted");

    private void Put8(int v) => _w[_wn++] = (byte)v;

    private void Put16(int v)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_w.AsSpan(_wn), (ushort)v);
        _wn += 2;
    }

    private void Put32(uint v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_w.AsSpan(_wn), v);
        _wn += 4;
    }

    /// <summary>A decimal number of <paramref name="octets"/> octets (1, 2 or 4), no sign, no units.</summary>
    private bool WNumber(int k, int octets, string what)
    {
        var t = Span(_tokens[k]);
        var max = octets switch { 1 => 255UL, 2 => 65535UL, _ => 4294967295UL };
        if (!Plain(k, what))
        {
            return false;
        }

        if (!TryNumber(t, max, out var v))
        {
            return Fail($"{what} '{t}' is not a number from 0 to {max}");
        }

        switch (octets)
        {
            case 1:
                Put8((int)v);
                break;
            case 2:
                Put16((int)v);
                break;
            default:
                Put32((uint)v);
                break;
        }

        return true;
    }

    private static bool TryNumber(ReadOnlySpan<char> t, ulong max, out ulong value)
    {
        value = 0;
        if (t.Length == 0)
        {
            return false;
        }

        foreach (var c in t)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (ulong)(c - '0');
            if (value > max)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An SOA timer: seconds or a duration with units, at most 4294967295.</summary>
    private bool WTime(int k, string what)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, what))
        {
            return false;
        }

        if (!TryTime(t, out var v, out var why))
        {
            return Fail($"{what} '{t}': {why}");
        }

        Put32(v);
        return true;
    }

    private bool WName(int k, string what, bool? lower = null)
    {
        var t = Span(_tokens[k]);
        if (_tokens[k].Quoted)
        {
            return Fail($"{what} {t} must be a domain name, not a quoted string");
        }

        if (!TryNameWire(t, _w.AsSpan(_wn), out var length, out var why, lower ?? RecordTypes.LowerCasesNames(_rType)))
        {
            return Fail($"{what} '{t}' is not a domain name: {why}");
        }

        _wn += length;
        return true;
    }

    private bool WIpv4(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "address"))
        {
            return false;
        }

        if (!TryIPv4(t, _w.AsSpan(_wn, 4)))
        {
            return Fail($"'{t}' is not an IPv4 address");
        }

        _wn += 4;
        return true;
    }

    private bool WIpv6(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "address"))
        {
            return false;
        }

        if (!TryIPv6(t, _w.AsSpan(_wn, 16)))
        {
            return Fail($"'{t}' is not an IPv6 address");
        }

        _wn += 16;
        return true;
    }

    /// <summary>A character-string: a length octet and at most 255 octets.</summary>
    private bool WString(int k, string what)
    {
        var at = _wn++;
        if (!DecodeText(_tokens[k], _w.AsSpan(_wn, 255), out var n, out var why))
        {
            return Fail($"{what} {Span(_tokens[k])}: {why}");
        }

        _w[at] = (byte)n;
        _wn += n;
        return true;
    }

    /// <summary>Text to the end of the RDATA (no length octet): URI targets, CAA values.</summary>
    private bool WText(int k, string what)
    {
        if (!DecodeText(_tokens[k], _w.AsSpan(_wn, 65535 - _wn), out var n, out var why))
        {
            return Fail($"{what} {Span(_tokens[k])}: {why}");
        }

        _wn += n;
        return true;
    }

    /// <summary>TXT and SPF: one or more strings; a string longer than 255 octets is split into several, as Knot does.</summary>
    private bool WStrings(int from)
    {
        for (var k = from; k < _tokens.Count; k++)
        {
            var start = _wn;
            if (!DecodeText(_tokens[k], _w.AsSpan(_wn + 1, Math.Max(0, 65535 - _wn - 1)), out var n, out var why))
            {
                return Fail($"string {Span(_tokens[k])}: {why}");
            }

            if (n <= 255)
            {
                _w[start] = (byte)n;
                _wn += 1 + n;
                continue;
            }

            // Split into 255-octet strings, each with its length octet.
            var chunks = (n + 254) / 255;
            if (start + n + chunks > 65535)
            {
                return Fail("the strings are longer than 65535 octets in all");
            }

            _w.AsSpan(start + 1, n).CopyTo(_w.AsSpan(start + chunks, n));
            var src = start + chunks;
            var dst = start;
            var left = n;
            while (left > 0)
            {
                var take = Math.Min(255, left);
                _w[dst] = (byte)take;
                _w.AsSpan(src, take).CopyTo(_w.AsSpan(dst + 1));
                dst += 1 + take;
                src += take;
                left -= take;
            }

            _wn = dst;
        }

        return true;
    }

    /// <summary>
    /// The octets of a text field as Knot reads them: unquoted, printable ASCII but '"', ';' and '\'; quoted, also
    /// blanks and ';'; in both, <c>\x</c> for a printable character and <c>\DDD</c> (at most 255) for any octet.
    /// Characters outside ASCII are refused (Knot refuses them): write their UTF-8 octets as \DDD.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool DecodeText(Token token, Span<byte> dest, out int n, out string? why)
    {
        var s = Span(token);
        if (token.Quoted)
        {
            s = s[1..^1];
        }

        n = 0;
        why = null;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            int b;
            if (c == '\\')
            {
                if (i + 1 >= s.Length)
                {
                    why = "ends in a lone '\\'";
                    return false;
                }

                var d = s[i + 1];
                if (char.IsAsciiDigit(d))
                {
                    if (i + 3 >= s.Length || !char.IsAsciiDigit(s[i + 2]) || !char.IsAsciiDigit(s[i + 3]))
                    {
                        why = "a '\\DDD' escape needs three digits";
                        return false;
                    }

                    b = ((d - '0') * 100) + ((s[i + 2] - '0') * 10) + (s[i + 3] - '0');
                    if (b > 255)
                    {
                        why = $"escape '\\{s.Slice(i + 1, 3)}' is more than 255";
                        return false;
                    }

                    i += 3;
                }
                else if (d is >= ' ' and <= '~')
                {
                    b = d;
                    i++;
                }
                else
                {
                    why = d > '~' ? NonAscii(d) : "'\\' before a control character: write the octet as \\DDD";
                    return false;
                }
            }
            else if (c is > ' ' and <= '~' || (token.Quoted && c is ' ' or '\t' or ';' or '\n'))
            {
                b = c;
            }
            else if (c == '\r' && token.Quoted && i + 1 < s.Length && s[i + 1] == '\n')
            {
                why = "a carriage return inside a string: write it as \\013";
                return false;
            }
            else
            {
                why = c > '~' ? NonAscii(c) : $"control character {(int)c} inside a string: write it as \\DDD";
                return false;
            }

            if (n >= dest.Length)
            {
                why = dest.Length == 255 ? "longer than 255 octets" : "longer than the record can hold (65535 octets)";
                return false;
            }

            dest[n++] = (byte)b;
        }

        return true;
    }

    private static string NonAscii(char c)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var count = char.IsSurrogate(c) ? 0 : System.Text.Encoding.UTF8.GetBytes(c.ToString().AsSpan(), utf8);
        var escaped = string.Concat(utf8[..count].ToArray().Select(b => "\\" + b.ToString("D3", CultureInfo.InvariantCulture)));
        return count > 0
            ? $"'{c}' is not ASCII (Knot refuses it): write its UTF-8 octets as {escaped}"
            : "characters outside ASCII are refused by Knot: write their UTF-8 octets as \\DDD";
    }

    /// <summary>Hex in one or more fields, each an even number of digits (as Knot reads them), at least one octet.</summary>
    private bool WHex(int from, string what)
    {
        var start = _wn;
        for (var k = from; k < _tokens.Count; k++)
        {
            var t = Span(_tokens[k]);
            if (!Plain(k, what))
            {
                return false;
            }

            if (t.Length % 2 != 0)
            {
                return Fail($"{what}: '{t}' has an odd number of hex digits (each field holds whole octets)");
            }

            for (var i = 0; i < t.Length; i += 2)
            {
                if (!char.IsAsciiHexDigit(t[i]) || !char.IsAsciiHexDigit(t[i + 1]))
                {
                    return Fail($"{what}: '{t}' is not hexadecimal");
                }

                if (_wn >= 65535)
                {
                    return Fail($"{what} is longer than 65535 octets");
                }

                _w[_wn++] = (byte)((HexValue(t[i]) << 4) | HexValue(t[i + 1]));
            }
        }

        return _wn > start || Fail($"{what} is empty");
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>
    /// Base64 in one or more fields, each whole quartets (padding only at a quartet's end), as Knot reads it.
    /// </summary>
    private bool WBase64(int from, string what)
    {
        var start = _wn;
        for (var k = from; k < _tokens.Count; k++)
        {
            var t = Span(_tokens[k]);
            if (!Plain(k, what))
            {
                return false;
            }

            if (!TryBase64Quartets(t, _w.AsSpan(_wn, 65535 - _wn), out var n))
            {
                return Fail($"{what}: '{(t.Length > 40 ? string.Concat(t[..40], "…") : t)}' is not base64 (whole groups of four characters, '=' only at a group's end)");
            }

            _wn += n;
        }

        return _wn > start || Fail($"{what} is empty");
    }

    private static bool TryBase64Quartets(ReadOnlySpan<char> t, Span<byte> dest, out int n)
    {
        n = 0;
        if (t.Length == 0 || t.Length % 4 != 0)
        {
            return false;
        }

        for (var i = 0; i < t.Length; i += 4)
        {
            int a = B64(t[i]), b = B64(t[i + 1]);
            if (a < 0 || b < 0)
            {
                return false;
            }

            var padC = t[i + 2] == '=';
            var padD = t[i + 3] == '=';
            var c = padC ? 0 : B64(t[i + 2]);
            var d = padD ? 0 : B64(t[i + 3]);
            if (c < 0 || d < 0 || (padC && !padD))
            {
                return false;
            }

            var octets = padC ? 1 : padD ? 2 : 3;
            if (n + octets > dest.Length)
            {
                return false;
            }

            dest[n++] = (byte)((a << 2) | (b >> 4));
            if (octets > 1)
            {
                dest[n++] = (byte)(((b & 15) << 4) | (c >> 2));
            }

            if (octets > 2)
            {
                dest[n++] = (byte)(((c & 3) << 6) | d);
            }
        }

        return true;
    }

    private static int B64(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '+' => 62,
        '/' => 63,
        _ => -1,
    };

    /// <summary>A DNSSEC algorithm: a number or one of the mnemonics Knot knows.</summary>
    private bool WAlgorithm(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "algorithm"))
        {
            return false;
        }

        if (TryNumber(t, 255, out var v))
        {
            Put8((int)v);
            return true;
        }

        var code = t.ToString().ToUpperInvariant() switch
        {
            "RSAMD5" => 1,
            "DH" => 2,
            "DSA" => 3,
            "RSASHA1" => 5,
            "DSA-NSEC3-SHA1" => 6,
            "RSASHA1-NSEC3-SHA1" => 7,
            "RSASHA256" => 8,
            "RSASHA512" => 10,
            "ECC-GOST" => 12,
            "ECDSAP256SHA256" => 13,
            "ECDSAP384SHA384" => 14,
            "ED25519" => 15,
            "ED448" => 16,
            "INDIRECT" => 252,
            "PRIVATEDNS" => 253,
            "PRIVATEOID" => 254,
            _ => -1,
        };
        if (code < 0)
        {
            return Fail($"algorithm '{t}' is not a number from 0 to 255 or an algorithm name (RSASHA256, ECDSAP256SHA256, ED25519, ...)");
        }

        Put8(code);
        return true;
    }

    private bool WCertType(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "certificate type"))
        {
            return false;
        }

        if (TryNumber(t, 65535, out var v))
        {
            Put16((int)v);
            return true;
        }

        var code = t.ToString().ToUpperInvariant() switch
        {
            "PKIX" => 1,
            "SPKI" => 2,
            "PGP" => 3,
            "IPKIX" => 4,
            "ISPKI" => 5,
            "IPGP" => 6,
            "ACPKIX" => 7,
            "IACPKIX" => 8,
            "URI" => 253,
            "OID" => 254,
            _ => -1,
        };
        if (code < 0)
        {
            return Fail($"certificate type '{t}' is not a number from 0 to 65535 or a type name (PKIX, SPKI, PGP, ...)");
        }

        Put16(code);
        return true;
    }

    private bool WType(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "type covered"))
        {
            return false;
        }

        if (!RecordTypes.TryParse(t, out var type))
        {
            return Fail($"type covered '{t}' is not a type Knot reads (a mnemonic or TYPEnnn)");
        }

        Put16(type);
        return true;
    }

    /// <summary>An RRSIG time: YYYYMMDDHHmmSS (UTC) or seconds since 1970 (at most 10 digits), as Knot reads it.</summary>
    private bool WTimestamp(int k, string what)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, what))
        {
            return false;
        }

        foreach (var c in t)
        {
            if (!char.IsAsciiDigit(c))
            {
                return Fail($"{what} '{t}' is not a time (YYYYMMDDHHmmSS or seconds since 1970)");
            }
        }

        if (t.Length == 14)
        {
            int year = Digits(t, 0, 4), month = Digits(t, 4, 2), day = Digits(t, 6, 2), hour = Digits(t, 8, 2), minute = Digits(t, 10, 2), second = Digits(t, 12, 2);
            if (year is < 1970 or > 2225 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
            {
                return Fail($"{what} '{t}' is not a date (YYYYMMDDHHmmSS, years 1970 to 2225)");
            }

            if (hour > 23 || minute > 59 || second > 59)
            {
                return Fail($"{what} '{t}' is not a time of day (YYYYMMDDHHmmSS)");
            }

            // Knot adds up the seconds in 32 bits: dates after 2106 wrap around, as they do in the wire form.
            var seconds = (long)(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds;
            Put32(unchecked((uint)seconds));
            return true;
        }

        if (t.Length is 0 or > 10 || !TryNumber(t, uint.MaxValue, out var value))
        {
            return Fail($"{what} '{t}' is not a time (YYYYMMDDHHmmSS or seconds since 1970, at most 4294967295)");
        }

        Put32((uint)value);
        return true;
    }

    private static int Digits(ReadOnlySpan<char> t, int at, int length) => int.Parse(t.Slice(at, length), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>A type bitmap (NSEC, NSEC3, CSYNC): type mnemonics or TYPEnnn, none at all allowed.</summary>
    private bool WBitmap(int from)
    {
        Span<byte> windows = stackalloc byte[256 * 32];
        Span<int> lengths = stackalloc int[256];
        windows.Clear();
        lengths.Clear();
        for (var k = from; k < _tokens.Count; k++)
        {
            var t = Span(_tokens[k]);
            if (!Plain(k, "type"))
            {
                return false;
            }

            if (!RecordTypes.TryParse(t, out var type))
            {
                return Fail($"'{t}' in the type list is not a type Knot reads (a mnemonic or TYPEnnn)");
            }

            var window = type >> 8;
            var bit = type & 255;
            windows[(window * 32) + (bit / 8)] |= (byte)(0x80 >> (bit % 8));
            lengths[window] = Math.Max(lengths[window], (bit / 8) + 1);
        }

        for (var window = 0; window < 256; window++)
        {
            if (lengths[window] > 0)
            {
                Put8(window);
                Put8(lengths[window]);
                windows.Slice(window * 32, lengths[window]).CopyTo(_w.AsSpan(_wn));
                _wn += lengths[window];
            }
        }

        return true;
    }

    private bool WSalt(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "salt"))
        {
            return false;
        }

        if (t.SequenceEqual("-"))
        {
            Put8(0);
            return true;
        }

        if (t.Length == 0 || t.Length % 2 != 0 || t.Length > 510 || t.ContainsAnyExcept(HexDigits.Value))
        {
            return Fail($"salt '{t}' is not '-' or whole octets of hex (at most 255)");
        }

        Put8(t.Length / 2);
        for (var i = 0; i < t.Length; i += 2)
        {
            Put8((HexValue(t[i]) << 4) | HexValue(t[i + 1]));
        }

        return true;
    }

    /// <summary>An NSEC3 next hashed owner: base32hex (RFC 4648 §7) in groups of eight with padding, at most 255 octets.</summary>
    private bool WHash(int k)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, "next hashed owner"))
        {
            return false;
        }

        var at = _wn++;
        var n = 0;
        var ok = t.Length > 0 && t.Length % 8 == 0;
        for (var i = 0; ok && i < t.Length; i += 8)
        {
            var group = t.Slice(i, 8);
            var data = group.IndexOf('=');
            var chars = data < 0 ? 8 : data;
            ok = chars is 2 or 4 or 5 or 7 or 8 && (data < 0 || group[data..].IndexOfAnyExcept('=') < 0);
            ulong bits = 0;
            for (var c = 0; ok && c < 8; c++)
            {
                var v = c < chars ? Base32HexValue(group[c]) : 0;
                ok = v >= 0;
                bits = (bits << 5) | (uint)Math.Max(0, v);
            }

            var octets = chars switch { 2 => 1, 4 => 2, 5 => 3, 7 => 4, _ => 5 };
            for (var o = 0; ok && o < octets; o++)
            {
                ok = n < 255;
                _w[_wn + n++] = (byte)(bits >> (32 - (8 * o)));
            }
        }

        if (!ok)
        {
            return Fail($"next hashed owner '{t}' is not base32hex (groups of eight of 0-9 and a-v, '=' padding at the end)");
        }

        _w[at] = (byte)n;
        _wn += n;
        return true;
    }

    private static int Base32HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'v' => c - 'a' + 10,
        >= 'A' and <= 'V' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Groups of hex octets joined by <paramref name="separator"/>: EUI-48/64 (xx-xx-…), L64/NID locators (xxxx:xxxx:xxxx:xxxx).</summary>
    private bool WHexGroups(int k, int groups, int octetsPerGroup, char separator, string what)
    {
        var t = Span(_tokens[k]);
        if (!Plain(k, what))
        {
            return false;
        }

        var width = octetsPerGroup * 2;
        var ok = t.Length == (groups * width) + groups - 1;
        for (var g = 0; ok && g < groups; g++)
        {
            var part = t.Slice(g * (width + 1), width);
            ok = !part.ContainsAnyExcept(HexDigits.Value) && (g == groups - 1 || t[(g * (width + 1)) + width] == separator);
        }

        if (!ok)
        {
            var sample = string.Join(separator, Enumerable.Repeat(new string('x', width), groups));
            return Fail($"{what} '{t}' is not {groups} groups of {width} hex digits ({sample})");
        }

        for (var g = 0; g < groups; g++)
        {
            var part = t.Slice(g * (width + 1), width);
            for (var i = 0; i < width; i += 2)
            {
                Put8((HexValue(part[i]) << 4) | HexValue(part[i + 1]));
            }
        }

        return true;
    }

    private static class HexDigits
    {
        public static readonly System.Buffers.SearchValues<char> Value = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
    }

    /// <summary>CAA tags are letters and digits, 1 to 15 (RFC 8659 §4.1); Knot takes any string, so another is only a warning.</summary>
    private bool CaaTagHint(int k)
    {
        var tagLength = _w[1];
        var tag = _w.AsSpan(2, tagLength);
        var ok = tagLength is >= 1 and <= 15;
        foreach (var b in tag)
        {
            ok &= char.IsAsciiLetterOrDigit((char)b);
        }

        if (!ok)
        {
            Warn(_entryLine, $"CAA record '{Display(_rOwner)}': tag {Span(_tokens[k])} is not 1 to 15 letters or digits (RFC 8659): certificate authorities will not understand it");
        }

        return true;
    }

    /// <summary>TLSA data lengths for SHA-256 and SHA-512 matching: a warning only (Knot checks nothing).</summary>
    private void TlsaHint()
    {
        var matching = _w[2];
        var expected = matching switch { 1 => 32, 2 => 64, _ => -1 };
        if (expected > 0 && _wn - 3 != expected)
        {
            Warn(_entryLine, $"TLSA record '{Display(_rOwner)}': matching type {matching} needs {expected} octets of data ({expected * 2} hex digits), got {_wn - 3}: clients will not match it");
        }
    }

    /// <summary>LOC (RFC 1876) as Knot reads it: d [m [s]] N|S d [m [s]] E|W alt[m] [size[m] [hp[m] [vp[m]]]].</summary>
    private bool Loc(int from, int count)
    {
        var k = from;
        var end = from + count;
        string? Field(int i) => i < end && !_tokens[i].Quoted ? Span(_tokens[i]).ToString() : null;
        bool Bad() => Fail("expects degrees [minutes [seconds]] N|S degrees [minutes [seconds]] E|W altitude[m] [size[m] [horizontal precision[m] [vertical precision[m]]]], e.g. 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m");
        bool Angle(uint maxDegrees, char positive, char negative, out uint value)
        {
            value = 0;
            var d = Field(k);
            if (d is null || !TryNumber(d, maxDegrees, out var degrees))
            {
                return false;
            }

            k++;
            ulong minutes = 0, millis = 0;
            var next = Field(k);
            if (next is not null && next != positive.ToString() && next != negative.ToString())
            {
                if (!TryNumber(next, 59, out minutes))
                {
                    return false;
                }

                k++;
                next = Field(k);
                if (next is not null && next != positive.ToString() && next != negative.ToString())
                {
                    if (!TryDecimal(next, 3, out millis) || millis > 59999)
                    {
                        return false;
                    }

                    k++;
                    next = Field(k);
                }
            }

            if (next is null || (next != positive.ToString() && next != negative.ToString()))
            {
                return false;
            }

            k++;
            var total = (uint)((degrees * 3_600_000) + (minutes * 60_000) + millis);
            value = next == positive.ToString() ? 0x80000000u + total : 0x80000000u - total;
            return true;
        }

        if (!Angle(90, 'N', 'S', out var lat) || !Angle(180, 'E', 'W', out var lon))
        {
            return Bad();
        }

        var altText = Field(k++);
        if (altText is null)
        {
            return Bad();
        }

        var negative = altText.StartsWith('-');
        if (!TryDecimal(Metres(negative ? altText[1..] : altText), 2, out var alt) || alt > (negative ? 10_000_000UL : 4_284_967_295UL))
        {
            return Bad();
        }

        Span<ulong> sizes = [100, 1_000_000, 1000];
        for (var s = 0; s < 3 && k < end; s++, k++)
        {
            var text = Field(k);
            if (text is null || !TryDecimal(Metres(text), 2, out sizes[s]) || sizes[s] > 9_000_000_000)
            {
                return Bad();
            }
        }

        if (k != end)
        {
            return Bad();
        }

        Put8(0);
        foreach (var size in sizes)
        {
            // Knot's loc64to8: the leading digit and the power of ten (further digits are dropped).
            var mantissa = size;
            var exponent = 0;
            while (mantissa > 9)
            {
                mantissa /= 10;
                exponent++;
            }

            Put8((int)((mantissa << 4) | (uint)exponent));
        }

        Put32(lat);
        Put32(lon);
        Put32(negative ? (uint)(10_000_000 - (long)alt) : (uint)(10_000_000 + alt));
        return true;

        static string Metres(string text) => text.EndsWith('m') ? text[..^1] : text;
    }

    /// <summary>A decimal with at most <paramref name="decimals"/> digits after the point, scaled to an integer (Knot's float2/float3).</summary>
    private static bool TryDecimal(string text, int decimals, out ulong value)
    {
        value = 0;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? string.Empty : text[(dot + 1)..];
        if (!TryNumber(whole, uint.MaxValue - 1, out var w) || fraction.Length > decimals || (fraction.Length > 0 && !TryNumber(fraction, ulong.MaxValue, out _)))
        {
            return false;
        }

        ulong scale = 1;
        for (var i = 0; i < decimals; i++)
        {
            scale *= 10;
        }

        ulong f = 0;
        for (var i = 0; i < decimals; i++)
        {
            f = (f * 10) + (ulong)(i < fraction.Length ? fraction[i] - '0' : 0);
        }

        value = (w * scale) + f;
        return true;
    }

    /// <summary>APL (RFC 3123): items <c>[!]1:IPv4/prefix</c> or <c>[!]2:IPv6/prefix</c>, none at all allowed.</summary>
    private bool Apl(int from, int count)
    {
        Span<byte> address = stackalloc byte[16];
        for (var k = from; k < from + count; k++)
        {
            var t = Span(_tokens[k]);
            if (!Plain(k, "APL item"))
            {
                return false;
            }

            var item = t;
            var negate = item.Length > 0 && item[0] == '!';
            if (negate)
            {
                item = item[1..];
            }

            var slash = item.LastIndexOf('/');
            var family = item.Length > 2 && item[1] == ':' ? item[0] : '?';
            var size = family switch { '1' => 4, '2' => 16, _ => 0 };
            if (size == 0 || slash <= 2 || !TryNumber(item[(slash + 1)..], (ulong)size * 8, out var prefix)
                || !(size == 4 ? TryIPv4(item[2..slash], address[..4]) : TryIPv6(item[2..slash], address)))
            {
                return Fail($"item '{t}' is not [!]1:IPv4/prefix (prefix 0-32) or [!]2:IPv6/prefix (prefix 0-128)");
            }

            var length = size;
            while (length > 0 && address[length - 1] == 0)
            {
                length--;
            }

            Put16(family - '0');
            Put8((int)prefix);
            Put8(length | (negate ? 0x80 : 0));
            address[..length].CopyTo(_w.AsSpan(_wn));
            _wn += length;
        }

        return true;
    }

    /// <summary>IPSECKEY (RFC 4025): precedence, gateway type 0-3, algorithm, gateway ('.', IPv4, IPv6 or a name), and a base64 key unless the algorithm is 0.</summary>
    private bool Ipseckey(int from, int count)
    {
        if (!Fields(count, 4, int.MaxValue, "precedence, gateway type, algorithm, gateway and key") || !WNumber(from, 1, "precedence"))
        {
            return false;
        }

        var gatewayType = Span(_tokens[from + 1]);
        if (_tokens[from + 1].Quoted || gatewayType.Length != 1 || gatewayType[0] is < '0' or > '3')
        {
            return Fail($"gateway type '{gatewayType}' is not 0 (none), 1 (IPv4), 2 (IPv6) or 3 (a name)");
        }

        Put8(gatewayType[0] - '0');
        if (!WNumber(from + 2, 1, "algorithm"))
        {
            return false;
        }

        var algorithm = _w[_wn - 1];
        var gateway = from + 3;
        var ok = gatewayType[0] switch
        {
            '0' => (Span(_tokens[gateway]).SequenceEqual(".") && !_tokens[gateway].Quoted) || Fail($"gateway '{Span(_tokens[gateway])}' must be '.' for gateway type 0"),
            '1' => WIpv4(gateway),
            '2' => WIpv6(gateway),
            _ => WName(gateway, "gateway", lower: false),
        };
        if (!ok)
        {
            return false;
        }

        // Knot refuses a key after algorithm 0, and takes a record without its key for another algorithm.
        if (algorithm == 0)
        {
            return count == 4 || Fail("algorithm 0 means no key: nothing may follow the gateway");
        }

        return count == 4 || WBase64(from + 4, "key");
    }

    /// <summary>
    /// SVCB/HTTPS (RFC 9460) as Knot 3.2 reads it: priority, target (case kept), then parameters <c>key=value</c> (a
    /// value may be quoted): mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint and keyNNNNN; written in
    /// key order, each key once, every mandatory key present.
    /// </summary>
    private bool Svcb(int from, int count)
    {
        if (!Fields(count, 2, int.MaxValue, "priority, target and parameters") || !WNumber(from, 2, "priority") || !WName(from + 1, "target", lower: false))
        {
            return false;
        }

        var parameters = new SortedDictionary<ushort, byte[]>();
        List<ushort>? mandatory = null;
        var k = from + 2;
        var end = from + count;
        while (k < end)
        {
            var token = _tokens[k];
            if (token.Quoted || token.Joined)
            {
                return Fail($"parameter {Span(token)} must be key=value (alpn=h2,h3, port=443, ...)");
            }

            var text = Span(token);
            var eq = text.IndexOf('=');
            var keyText = eq < 0 ? text : text[..eq];
            string? value = null;
            var quoted = false;
            Token valueToken = token;
            if (eq >= 0)
            {
                if (eq == text.Length - 1 && k + 1 < end && _tokens[k + 1].Joined && _tokens[k + 1].Quoted)
                {
                    valueToken = _tokens[++k];
                    quoted = true;
                }
                else if (eq == text.Length - 1)
                {
                    return Fail($"parameter '{text}' has an empty value: leave out '=' or give a value");
                }
                else
                {
                    valueToken = new Token(token.Start + eq + 1, token.Length - eq - 1, false, false);
                }

                value = Span(valueToken).ToString();
            }

            k++;
            if (k < end && _tokens[k].Joined)
            {
                return Fail($"parameter '{text}{Span(_tokens[k])}': a quote in the middle of a value");
            }

            if (!TrySvcKey(keyText, out var key))
            {
                return Fail($"'{keyText}' is not a parameter key (mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint or key0-key65535)");
            }

            if (parameters.ContainsKey(key))
            {
                return Fail($"parameter {RdataText.SvcKeyName(key)} is given twice");
            }

            var named = !keyText.StartsWith("key", StringComparison.Ordinal);
            byte[]? wire;
            string? why;
            var inner = quoted ? value![1..^1] : value;
            if (!named || key > 6)
            {
                (wire, why) = value is null ? Value([]) : DecodeValue(valueToken);
            }
            else if (key == 0)
            {
                (wire, why) = SvcMandatory(inner, out mandatory);
            }
            else if (key == 1)
            {
                (wire, why) = value is null ? No("alpn needs a list of protocol ids") : SvcAlpn(valueToken);
            }
            else if (key == 2)
            {
                (wire, why) = value is null ? Value([]) : No("no-default-alpn takes no value");
            }
            else if (key == 3)
            {
                (wire, why) = inner is not null && TryNumber(inner, 65535, out var port) ? Value([(byte)(port >> 8), (byte)port]) : No("port must be a number from 0 to 65535");
            }
            else if (key == 5)
            {
                (wire, why) = inner is not null && TryBase64Quartets(inner, _scratchBytes, out var n) && n > 0 ? Value(_scratchBytes.AsSpan(0, n)) : No("ech must be base64");
            }
            else
            {
                (wire, why) = SvcAddresses(inner, key == 4 ? 4 : 16);
            }

            if (wire is null)
            {
                return Fail($"parameter {RdataText.SvcKeyName(key)}: {why}");
            }

            parameters[key] = wire;
        }

        if (mandatory is not null)
        {
            foreach (var key in mandatory)
            {
                if (!parameters.ContainsKey(key))
                {
                    return Fail($"mandatory names {RdataText.SvcKeyName(key)}, which is not given");
                }
            }
        }

        foreach (var (key, wire) in parameters)
        {
            if (_wn + 4 + wire.Length > 65535)
            {
                return Fail("the parameters are longer than 65535 octets");
            }

            Put16(key);
            Put16(wire.Length);
            wire.CopyTo(_w.AsSpan(_wn));
            _wn += wire.Length;
        }

        return true;
    }

    private readonly byte[] _scratchBytes = new byte[65536];

    private static (byte[]? Wire, string? Why) Value(ReadOnlySpan<byte> wire) => (wire.ToArray(), null);

    private static (byte[]? Wire, string? Why) No(string why) => (null, why);

    private (byte[]? Wire, string? Why) DecodeValue(Token token) =>
        DecodeText(token, _scratchBytes, out var n, out var why) ? Value(_scratchBytes.AsSpan(0, n)) : No(why!);

    private static bool TrySvcKey(ReadOnlySpan<char> text, out ushort key)
    {
        key = text switch
        {
            "mandatory" => 0,
            "alpn" => 1,
            "no-default-alpn" => 2,
            "port" => 3,
            "ipv4hint" => 4,
            "ech" => 5,
            "ipv6hint" => 6,
            _ => ushort.MaxValue,
        };
        if (key != ushort.MaxValue)
        {
            return true;
        }

        return text.StartsWith("key") && text.Length > 3 && TryNumber(text[3..], 65535, out var number) && (key = (ushort)number) == number;
    }

    private static (byte[]? Wire, string? Why) SvcMandatory(string? value, out List<ushort>? keys)
    {
        keys = null;
        if (string.IsNullOrEmpty(value))
        {
            return No("mandatory needs a list of keys");
        }

        var list = new List<ushort>();
        foreach (var part in value.Split(','))
        {
            if (part == "mandatory" || !TrySvcKey(part, out var key))
            {
                return No($"'{part}' is not a key mandatory can name");
            }

            list.Add(key);
        }

        list.Sort();
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i] == list[i - 1])
            {
                return No($"{RdataText.SvcKeyName(list[i])} is named twice");
            }
        }

        if (list.Contains(0))
        {
            return No("mandatory cannot name itself");
        }

        keys = list;
        var wire = new byte[list.Count * 2];
        for (var i = 0; i < list.Count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(wire.AsSpan(i * 2), list[i]);
        }

        return Value(wire);
    }

    /// <summary>alpn: a comma-separated list of protocol ids; a comma inside an id is written <c>\\,</c> (RFC 9460 Appendix A).</summary>
    private (byte[]? Wire, string? Why) SvcAlpn(Token token)
    {
        if (!DecodeText(token, _scratchBytes, out var n, out var why))
        {
            return No(why!);
        }

        var result = new List<byte>();
        var item = new List<byte>();
        var escaped = false;
        for (var i = 0; i <= n; i++)
        {
            if (i == n || (_scratchBytes[i] == (byte)',' && !escaped))
            {
                if (item.Count is 0 or > 255)
                {
                    return No(item.Count == 0 ? "an empty protocol id in the list" : "a protocol id is longer than 255 octets");
                }

                result.Add((byte)item.Count);
                result.AddRange(item);
                item.Clear();
                continue;
            }

            var b = _scratchBytes[i];
            if (b == (byte)'\\' && !escaped)
            {
                escaped = true;
                continue;
            }

            escaped = false;
            item.Add(b);
        }

        return Value([.. result]);
    }

    private (byte[]? Wire, string? Why) SvcAddresses(string? value, int size)
    {
        if (string.IsNullOrEmpty(value))
        {
            return No("needs a list of addresses");
        }

        var parts = value.Split(',');
        var wire = new byte[parts.Length * size];
        for (var i = 0; i < parts.Length; i++)
        {
            var ok = size == 4 ? TryIPv4(parts[i], wire.AsSpan(i * 4, 4)) : TryIPv6(parts[i], wire.AsSpan(i * 16, 16));
            if (!ok)
            {
                return No($"'{parts[i]}' is not an {(size == 4 ? "IPv4" : "IPv6")} address");
            }
        }

        return Value(wire);
    }

    /// <summary>
    /// An IPv4 address as glibc's inet_pton reads it (Knot uses it): four decimal octets, no leading zeros, nothing
    /// else. Writes the octets to <paramref name="dest"/> when it is not empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryIPv4(ReadOnlySpan<char> t, Span<byte> dest)
    {
        var octets = 0;
        var sawDigit = false;
        var value = 0;
        Span<byte> tmp = stackalloc byte[4];
        foreach (var c in t)
        {
            if (char.IsAsciiDigit(c))
            {
                if (sawDigit && value == 0)
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
                if (value > 255)
                {
                    return false;
                }

                if (!sawDigit)
                {
                    if (++octets > 4)
                    {
                        return false;
                    }

                    sawDigit = true;
                }

                tmp[octets - 1] = (byte)value;
            }
            else if (c == '.' && sawDigit)
            {
                if (octets == 4)
                {
                    return false;
                }

                sawDigit = false;
                value = 0;
            }
            else
            {
                return false;
            }
        }

        if (octets < 4 || !sawDigit)
        {
            return false;
        }

        if (!dest.IsEmpty)
        {
            tmp.CopyTo(dest);
        }

        return true;
    }

    /// <summary>An IPv6 address as glibc's inet_pton reads it: hex groups of at most four digits, one '::', an optional IPv4 tail.</summary>
    private static bool TryIPv6(ReadOnlySpan<char> src, Span<byte> dest)
    {
        Span<byte> tmp = stackalloc byte[16];
        tmp.Clear();
        var tp = 0;
        var colon = -1;
        var i = 0;
        if (src.IsEmpty)
        {
            return false;
        }

        if (src[0] == ':')
        {
            if (src.Length < 2 || src[1] != ':')
            {
                return false;
            }

            i = 1;
        }

        var curtok = i;
        var digits = 0;
        var val = 0;
        while (i < src.Length)
        {
            var ch = src[i++];
            var digit = char.IsAsciiHexDigit(ch) ? HexValue(ch) : -1;
            if (digit >= 0)
            {
                if (digits == 4)
                {
                    return false;
                }

                val = (val << 4) | digit;
                digits++;
                continue;
            }

            if (ch == ':')
            {
                curtok = i;
                if (digits == 0)
                {
                    if (colon >= 0)
                    {
                        return false;
                    }

                    colon = tp;
                    continue;
                }

                if (i == src.Length || tp + 2 > 16)
                {
                    return false;
                }

                tmp[tp++] = (byte)(val >> 8);
                tmp[tp++] = (byte)val;
                digits = 0;
                val = 0;
                continue;
            }

            if (ch == '.' && tp + 4 <= 16 && TryIPv4(src[curtok..], tmp.Slice(tp, 4)))
            {
                tp += 4;
                digits = 0;
                break;
            }

            return false;
        }

        if (digits > 0)
        {
            if (tp + 2 > 16)
            {
                return false;
            }

            tmp[tp++] = (byte)(val >> 8);
            tmp[tp++] = (byte)val;
        }

        if (colon >= 0)
        {
            if (tp == 16)
            {
                return false;
            }

            var n = tp - colon;
            tmp.Slice(colon, n).CopyTo(tmp[(16 - n)..]);
            tmp.Slice(colon, 16 - n - colon).Clear();
            tp = 16;
        }

        if (tp != 16)
        {
            return false;
        }

        tmp.CopyTo(dest);
        return true;
    }
}
