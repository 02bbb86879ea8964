using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using ManagedServers.Grains.Interfaces.Zones;

namespace ManagedServers.Grains.Zones;

/// <summary>The outcome of parsing a zone file: its records in canonical order (duplicates dropped) or its errors.</summary>
public sealed class ZoneParseResult(string apex, ZoneRecord[] records, ImmutableArray<ZoneError> errors, bool truncated)
{
    /// <summary>The zone apex, absolute ("example.com.").</summary>
    public string Apex { get; } = apex;

    public ZoneRecord[] Records { get; } = records;

    public ImmutableArray<ZoneError> Errors { get; } = errors;

    /// <summary>More errors were found than <see cref="Errors"/> holds.</summary>
    public bool Truncated { get; } = truncated;

    public bool Ok => Errors.IsEmpty;
}

/// <summary>
/// RFC 1035 master-file parser and validator for one zone. A line-tracking entry splitter (parentheses, quotes,
/// comments, escapes, $ORIGIN, $TTL, '@', blank owner = previous owner, relative names) feeds per-type RDATA parsers
/// that write each record's canonical text. It works on spans of the input: per record it allocates the data string
/// and, when the owner changes, the owner string. Then one pass over the records in canonical order checks the rules
/// that span records (CNAME beside other data, one SOA at the apex, NS at the apex) and drops duplicates.
/// Every error carries its line; parsing stops after <see cref="MaxErrors"/>.
/// </summary>
public sealed class ZoneFileParser
{
    public const int MaxErrors = 100;
    public const int DefaultTtl = 3600;

    private readonly string _text;
    private readonly string _apex;
    private readonly string _apexSuffix;
    private readonly List<Token> _tokens = new(16);
    private readonly List<ZoneError> _errors = [];
    private readonly List<ZoneRecord> _records;
    private readonly List<int> _lines;
    private readonly StringBuilder _sb = new(256);
    private readonly char[] _scratch = new char[1024];
    private readonly byte[] _bytes = new byte[65536];
    private string _origin;
    private int _pos;
    private int _line = 1;
    private int _entryLine;
    private bool _blankOwner;
    private string? _entryError;
    private int _defaultTtl = -1;
    private int _lastTtl = -1;
    private string? _prevOwner;
    private bool _prevOwnerInZone;
    private Token _prevOwnerToken;
    private string? _prevOwnerOrigin;
    private bool _truncated;

    private ZoneFileParser(string text, string apex, int capacity)
    {
        _text = text;
        _apex = apex;
        _apexSuffix = "." + apex;
        _origin = apex;
        _records = new List<ZoneRecord>(capacity);
        _lines = new List<int>(capacity);
    }

    private readonly record struct Token(int Start, int Length, bool Quoted);

    /// <summary>Parses and validates the zone file <paramref name="text"/> of the zone <paramref name="zone"/> (normalised name).</summary>
    public static ZoneParseResult Parse(string text, string zone)
    {
        var apex = zone + ".";
        var parser = new ZoneFileParser(text, apex, Math.Max(16, text.Length / 40));
        parser.ParseEntries();
        return parser.Finish();
    }

    /// <summary>
    /// One record given by fields, checked like a zone-file line; errors name the field (<c>name</c>, <c>type</c>,
    /// <c>ttl</c>, <c>data</c>). <paramref name="defaultTtl"/> applies when <see cref="ZoneRecordInput.Ttl"/> is null.
    /// </summary>
    public static (ZoneRecord? Record, ImmutableArray<ZoneError> Errors) ParseRecord(ZoneRecordInput input, string zone, int defaultTtl)
    {
        var errors = ImmutableArray.CreateBuilder<ZoneError>();
        var parser = new ZoneFileParser(input.Data ?? string.Empty, zone + ".", 1);
        string? owner = null;
        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(new ZoneError(0, "name", "is required: a name relative to the zone (www, @) or absolute (www.example.com.)"));
        }
        else
        {
            owner = parser.ResolveName(input.Name.Trim(), out var why);
            if (owner is null)
            {
                errors.Add(new ZoneError(0, "name", why!));
            }
            else if (!parser.InZone(owner))
            {
                errors.Add(new ZoneError(0, "name", $"'{owner}' is outside the zone {parser._apex}"));
            }
        }

        ushort type = 0;
        if (string.IsNullOrWhiteSpace(input.Type))
        {
            errors.Add(new ZoneError(0, "type", $"is required: one of {RecordTypes.KnownList}, or TYPEnnn"));
        }
        else if (!RecordTypes.TryParse(input.Type.Trim(), out type))
        {
            errors.Add(new ZoneError(0, "type", $"unknown type '{input.Type}': use one of {RecordTypes.KnownList}, or TYPEnnn with RFC 3597 data (\\# length hex)"));
        }

        if (input.Ttl is < 0 or > int.MaxValue)
        {
            errors.Add(new ZoneError(0, "ttl", "must be between 0 and 2147483647"));
        }

        if (string.IsNullOrWhiteSpace(input.Data))
        {
            errors.Add(new ZoneError(0, "data", "is required: the record's data in zone-file form (e.g. 192.0.2.1)"));
        }

        if (errors.Count > 0)
        {
            return (null, errors.ToImmutable());
        }

        parser._blankOwner = true;
        parser._entryLine = 1;
        parser.ReadTokens();
        string? data = null;
        if (parser._entryError is { } tokenError)
        {
            parser._errors.Add(new ZoneError(1, "data", tokenError));
        }
        else if (parser._tokens.Count == 0)
        {
            parser._errors.Add(new ZoneError(1, "data", "is empty"));
        }
        else if (parser._pos < parser._text.Length && parser._text.AsSpan(parser._pos).Trim().Length > 0)
        {
            parser._errors.Add(new ZoneError(1, "data", "must be one line (one record)"));
        }
        else
        {
            data = parser.Rdata(type, 0, owner!);
        }

        if (data is null)
        {
            return (null, [.. parser._errors.Select(e => new ZoneError(0, "data", e.Message))]);
        }

        var record = new ZoneRecord(owner!, type, (int)(input.Ttl ?? defaultTtl), data);
        return (record, []);
    }

    /// <summary>Canonical DNS name order (RFC 4034 §6.1) of owners, as an ordinal-comparable key: labels right to left, NUL-separated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string CanonicalKey(string owner)
    {
        var span = owner.AsSpan();
        if (span.Length > 0 && span[^1] == '.')
        {
            span = span[..^1];
        }

        return string.Create(span.Length, owner, static (dest, owner) =>
        {
            var src = owner.AsSpan();
            if (src.Length > 0 && src[^1] == '.')
            {
                src = src[..^1];
            }

            var written = 0;
            var end = src.Length;
            for (var i = src.Length - 1; i >= -1; i--)
            {
                if (i == -1 || (src[i] == '.' && !IsEscaped(src, i)))
                {
                    var label = src[(i + 1)..end];
                    if (written > 0)
                    {
                        dest[written++] = '\0';
                    }

                    label.CopyTo(dest[written..]);
                    written += label.Length;
                    end = i;
                }
            }
        });
    }

    private static bool IsEscaped(ReadOnlySpan<char> s, int i)
    {
        var backslashes = 0;
        for (var j = i - 1; j >= 0 && s[j] == '\\'; j--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    private ReadOnlySpan<char> Span(Token t) => _text.AsSpan(t.Start, t.Length);

    private bool InZone(string owner) => owner.Length == _apex.Length ? owner == _apex : owner.EndsWith(_apexSuffix, StringComparison.Ordinal);

    private void Error(string message)
    {
        if (_errors.Count >= MaxErrors)
        {
            _truncated = true;
            return;
        }

        _errors.Add(new ZoneError(_entryLine, "zone_file", message));
    }

    private void Error(int line, string message)
    {
        if (_errors.Count >= MaxErrors)
        {
            _truncated = true;
            return;
        }

        _errors.Add(new ZoneError(line, "zone_file", message));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseEntries()
    {
        while (_pos < _text.Length)
        {
            _entryLine = _line;
            var c = _text[_pos];
            _blankOwner = c is ' ' or '\t';
            ReadTokens();
            if (_entryError is { } tokenError)
            {
                Error(tokenError);
            }
            else if (_tokens.Count > 0)
            {
                Entry();
            }

            if (_errors.Count >= MaxErrors)
            {
                _truncated = _pos < _text.Length;
                return;
            }
        }
    }

    /// <summary>Reads one entry's tokens: to the end of the line, or of the last line of a parenthesised group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadTokens()
    {
        _tokens.Clear();
        _entryError = null;
        var text = _text;
        var n = text.Length;
        var depth = 0;
        while (_pos < n)
        {
            var c = text[_pos];
            switch (c)
            {
                case '\n':
                    _line++;
                    _pos++;
                    if (depth == 0)
                    {
                        return;
                    }

                    break;
                case ' ' or '\t' or '\r':
                    _pos++;
                    break;
                case ';':
                    while (_pos < n && text[_pos] != '\n')
                    {
                        _pos++;
                    }

                    break;
                case '(':
                    depth++;
                    _pos++;
                    break;
                case ')':
                    if (depth == 0)
                    {
                        _entryError ??= "')' without '('";
                    }
                    else
                    {
                        depth--;
                    }

                    _pos++;
                    break;
                case '"':
                    {
                        var start = _pos++;
                        while (_pos < n && text[_pos] != '"' && text[_pos] != '\n')
                        {
                            _pos += text[_pos] == '\\' && _pos + 1 < n && text[_pos + 1] != '\n' ? 2 : 1;
                        }

                        if (_pos >= n || text[_pos] == '\n')
                        {
                            _entryError ??= "quoted string not closed on its line";
                            break;
                        }

                        _pos++;
                        _tokens.Add(new Token(start, _pos - start, true));
                        break;
                    }

                default:
                    {
                        var start = _pos;
                        while (_pos < n)
                        {
                            c = text[_pos];
                            if (c is ' ' or '\t' or '\n' or '\r' or ';' or '(' or ')' or '"')
                            {
                                break;
                            }

                            _pos += c == '\\' && _pos + 1 < n && text[_pos + 1] != '\n' ? 2 : 1;
                        }

                        _tokens.Add(new Token(start, _pos - start, false));
                        break;
                    }
            }
        }

        if (depth > 0)
        {
            _entryError ??= "'(' not closed before the end of the file";
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Entry()
    {
        var tokens = _tokens;
        var first = Span(tokens[0]);
        if (!_blankOwner && first.Length > 0 && first[0] == '$')
        {
            Directive(first);
            return;
        }

        string owner;
        bool inZone;
        var i = 0;
        if (_blankOwner)
        {
            if (_prevOwner is null)
            {
                Error("no owner name: the first record must name its owner (a line starting with blanks repeats the previous owner)");
                return;
            }

            owner = _prevOwner;
            inZone = _prevOwnerInZone;
        }
        else
        {
            if (_prevOwner is not null && ReferenceEquals(_prevOwnerOrigin, _origin) && first.SequenceEqual(Span(_prevOwnerToken)))
            {
                owner = _prevOwner;
                inZone = _prevOwnerInZone;
            }
            else
            {
                string? why = "quotes are not allowed in names";
                var resolved = tokens[0].Quoted ? null : ResolveName(first, out why);
                if (resolved is null)
                {
                    Error($"bad owner name '{first}': {why}");
                    return;
                }

                owner = resolved;
                inZone = InZone(owner);
                _prevOwner = owner;
                _prevOwnerToken = tokens[0];
                _prevOwnerOrigin = _origin;
                _prevOwnerInZone = inZone;
            }

            i = 1;
        }

        var ttl = -1;
        var classSeen = false;
        for (var k = 0; k < 2 && i < tokens.Count; k++)
        {
            var t = Span(tokens[i]);
            if (!classSeen && IsClass(t, out var isIn))
            {
                if (!isIn)
                {
                    Error($"class '{t}' is not supported: only IN");
                    return;
                }

                classSeen = true;
                i++;
                continue;
            }

            if (ttl < 0 && t.Length > 0 && (char.IsAsciiDigit(t[0]) || t[0] is '-' or '+'))
            {
                if (!TryTtl(t, out ttl, out var why))
                {
                    Error($"bad TTL '{t}': {why}");
                    return;
                }

                i++;
                continue;
            }

            break;
        }

        if (i >= tokens.Count)
        {
            Error($"record '{Display(owner)}' has no type");
            return;
        }

        var typeText = Span(tokens[i]);
        if (!RecordTypes.TryParse(typeText, out var type))
        {
            Error(typeText.Length > 0 && char.IsAsciiLetter(typeText[0])
                ? $"record '{Display(owner)}': type '{typeText}' is not supported: use one of {RecordTypes.KnownList}, or TYPEnnn with RFC 3597 data (\\# length hex)"
                : $"record '{Display(owner)}': '{typeText}' is not a record type");
            return;
        }

        if (!inZone)
        {
            Error($"{RecordTypes.Name(type)} record '{owner}' is outside the zone {_apex}");
            return;
        }

        if (ttl >= 0)
        {
            _lastTtl = ttl;
        }
        else
        {
            ttl = _defaultTtl >= 0 ? _defaultTtl : _lastTtl >= 0 ? _lastTtl : DefaultTtl;
        }

        var data = Rdata(type, i + 1, owner);
        if (data is null)
        {
            return;
        }

        _records.Add(new ZoneRecord(owner, type, ttl, data));
        _lines.Add(_entryLine);
    }

    private void Directive(ReadOnlySpan<char> name)
    {
        var args = _tokens.Count - 1;
        if (name.Equals("$ORIGIN", StringComparison.OrdinalIgnoreCase))
        {
            if (args != 1)
            {
                Error("$ORIGIN takes one absolute name");
                return;
            }

            var arg = Span(_tokens[1]);
            if (arg.Length == 0 || arg[^1] != '.')
            {
                Error($"$ORIGIN '{arg}' must be an absolute name (ending in '.')");
                return;
            }

            var origin = ResolveName(arg, out var why);
            if (origin is null)
            {
                Error($"bad $ORIGIN '{arg}': {why}");
                return;
            }

            _origin = origin;
        }
        else if (name.Equals("$TTL", StringComparison.OrdinalIgnoreCase))
        {
            if (args != 1)
            {
                Error("$TTL takes one TTL");
                return;
            }

            var arg = Span(_tokens[1]);
            if (!TryTtl(arg, out var ttl, out var why))
            {
                Error($"bad TTL '{arg}' in $TTL: {why}");
                return;
            }

            _defaultTtl = ttl;
        }
        else if (name.Equals("$INCLUDE", StringComparison.OrdinalIgnoreCase))
        {
            Error("$INCLUDE is not supported: import one self-contained file");
        }
        else
        {
            Error($"unknown directive '{name}': use $ORIGIN or $TTL");
        }
    }

    private static bool IsClass(ReadOnlySpan<char> t, out bool isIn)
    {
        isIn = t.Equals("IN", StringComparison.OrdinalIgnoreCase) || t.Equals("CLASS1", StringComparison.OrdinalIgnoreCase);
        return isIn || t.Equals("CH", StringComparison.OrdinalIgnoreCase) || t.Equals("HS", StringComparison.OrdinalIgnoreCase)
            || t.Equals("CS", StringComparison.OrdinalIgnoreCase) || (t.Length > 5 && t[..5].Equals("CLASS", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A TTL in seconds or with BIND units (1h30m, 2d, 1w); 0 to 2147483647.</summary>
    public static bool TryTtl(ReadOnlySpan<char> t, out int ttl, out string? why)
    {
        ttl = 0;
        why = null;
        if (t.Length == 0)
        {
            why = "empty";
            return false;
        }

        if (t[0] == '-')
        {
            why = "a TTL cannot be negative";
            return false;
        }

        if (t[0] == '+')
        {
            t = t[1..];
        }

        long total = 0;
        long current = 0;
        var digits = 0;
        var units = false;
        foreach (var c in t)
        {
            if (char.IsAsciiDigit(c))
            {
                current = (current * 10) + (c - '0');
                digits++;
                if (current > int.MaxValue)
                {
                    why = "more than 2147483647";
                    return false;
                }

                continue;
            }

            long factor = char.ToLowerInvariant(c) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                'w' => 604800,
                _ => 0,
            };
            if (factor == 0 || digits == 0)
            {
                why = "not a number of seconds (or a duration such as 1h30m)";
                return false;
            }

            total += current * factor;
            current = 0;
            digits = 0;
            units = true;
            if (total > int.MaxValue)
            {
                why = "more than 2147483647";
                return false;
            }
        }

        if (digits == 0 && !units)
        {
            why = "not a number of seconds (or a duration such as 1h30m)";
            return false;
        }

        total += current;
        if (total > int.MaxValue)
        {
            why = "more than 2147483647";
            return false;
        }

        ttl = (int)total;
        return true;
    }

    /// <summary>Absolute lower-case name for <paramref name="s"/> ('@', relative to $ORIGIN, or absolute), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? ResolveName(ReadOnlySpan<char> s, out string? why)
    {
        why = ResolveNameError(s);
        if (why is not null)
        {
            return null;
        }

        if (s.Length == 1 && s[0] == '@')
        {
            return _origin;
        }

        var absolute = s[^1] == '.' && !IsEscaped(s, s.Length - 1);
        if (absolute && s.Length == 1)
        {
            return ".";
        }

        var length = absolute ? s.Length : s.Length + 1 + (_origin == "." ? 0 : _origin.Length);
        if (length > _scratch.Length)
        {
            why = "longer than 255 octets";
            return null;
        }

        var dest = _scratch.AsSpan(0, length);
        for (var i = 0; i < s.Length; i++)
        {
            dest[i] = char.ToLowerInvariant(s[i]);
        }

        if (!absolute)
        {
            dest[s.Length] = '.';
            if (_origin != ".")
            {
                _origin.AsSpan().CopyTo(dest[(s.Length + 1)..]);
            }
        }

        if (WireLength(dest) > 255)
        {
            why = "longer than 255 octets";
            return null;
        }

        return new string(dest);
    }

    /// <summary>Why a name token is not a name (null when it is): empty labels, labels over 63 octets, bad escapes, non-ASCII.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static string? ResolveNameError(ReadOnlySpan<char> s)
    {
        if (s.Length == 0)
        {
            return "empty name";
        }

        if (s.Length == 1 && s[0] is '@' or '.')
        {
            return null;
        }

        var label = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\\')
            {
                if (i + 1 >= s.Length)
                {
                    return "ends in a lone '\\'";
                }

                if (char.IsAsciiDigit(s[i + 1]))
                {
                    if (i + 3 >= s.Length || !char.IsAsciiDigit(s[i + 2]) || !char.IsAsciiDigit(s[i + 3]) || int.Parse(s.Slice(i + 1, 3), CultureInfo.InvariantCulture) > 255)
                    {
                        return "a '\\DDD' escape needs three digits, at most 255";
                    }

                    i += 3;
                }
                else
                {
                    i++;
                }

                label++;
            }
            else if (c == '.')
            {
                if (label == 0)
                {
                    return "empty label ('..' or a leading '.')";
                }

                label = 0;
                continue;
            }
            else if (c <= ' ' || c > '~')
            {
                return c > '~' ? "non-ASCII characters: write an internationalised name in its xn-- form" : "control or blank characters must be escaped";
            }
            else
            {
                label++;
            }

            if (label > 63)
            {
                return "a label is longer than 63 octets";
            }
        }

        return null;
    }

    private static int WireLength(ReadOnlySpan<char> name)
    {
        var octets = 1;
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '\\')
            {
                i += char.IsAsciiDigit(name[i + 1]) ? 3 : 1;
            }

            octets++;
        }

        return name.Length == 1 ? 1 : octets;
    }

    private string Display(string owner) =>
        owner == _apex ? "@" : owner.EndsWith(_apexSuffix, StringComparison.Ordinal) ? owner[..^_apexSuffix.Length] : owner;

    /// <summary>The canonical RDATA of the tokens from <paramref name="from"/>, or null after recording an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? Rdata(ushort type, int from, string owner)
    {
        var count = _tokens.Count - from;
        if (count >= 1 && !_tokens[from].Quoted && Span(_tokens[from]).SequenceEqual("\\#"))
        {
            return Generic(type, from, count, owner);
        }

        switch (type)
        {
            case RecordTypes.A:
                {
                    if (count != 1)
                    {
                        return Bad(type, owner, $"expects an IPv4 address, got {count} fields");
                    }

                    var t = Span(_tokens[from]);
                    return TryIPv4(t, out var text) ? text : Bad(type, owner, $"'{t}' is not an IPv4 address");
                }

            case RecordTypes.Aaaa:
                {
                    if (count != 1)
                    {
                        return Bad(type, owner, $"expects an IPv6 address, got {count} fields");
                    }

                    var t = Span(_tokens[from]);
                    if (t.Contains('%') || !IPAddress.TryParse(t, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
                    {
                        return Bad(type, owner, $"'{t}' is not an IPv6 address");
                    }

                    return ip.TryFormat(_scratch, out var written) ? new string(_scratch, 0, written) : ip.ToString();
                }

            case RecordTypes.Ns or RecordTypes.Cname or RecordTypes.Ptr:
                return count != 1 ? Bad(type, owner, $"expects one domain name, got {count} fields") : Name(type, owner, from, "target");

            case RecordTypes.Mx:
                {
                    if (count != 2)
                    {
                        return Bad(type, owner, $"expects a preference and a mail exchanger name, got {count} fields");
                    }

                    var pref = Span(_tokens[from]);
                    if (!ushort.TryParse(pref, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                    {
                        return Bad(type, owner, $"preference '{pref}' is not a number from 0 to 65535");
                    }

                    var exchange = Name(type, owner, from + 1, "exchange");
                    return exchange is null ? null : string.Concat(p.ToString(CultureInfo.InvariantCulture), " ", exchange);
                }

            case RecordTypes.Srv:
                {
                    if (count != 4)
                    {
                        return Bad(type, owner, $"expects priority, weight, port and target, got {count} fields");
                    }

                    _sb.Clear();
                    string[] what = ["priority", "weight", "port"];
                    for (var k = 0; k < 3; k++)
                    {
                        var t = Span(_tokens[from + k]);
                        if (!ushort.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                        {
                            return Bad(type, owner, $"{what[k]} '{t}' is not a number from 0 to 65535");
                        }

                        _sb.Append(v).Append(' ');
                    }

                    var target = Name(type, owner, from + 3, "target");
                    return target is null ? null : _sb.Append(target).ToString();
                }

            case RecordTypes.Txt:
                {
                    if (count < 1)
                    {
                        return Bad(type, owner, "expects one or more strings");
                    }

                    _sb.Clear();
                    for (var k = 0; k < count; k++)
                    {
                        if (k > 0)
                        {
                            _sb.Append(' ');
                        }

                        if (!CharacterString(_tokens[from + k], out var why))
                        {
                            return Bad(type, owner, why!);
                        }
                    }

                    return _sb.ToString();
                }

            case RecordTypes.Caa:
                {
                    if (count != 3)
                    {
                        return Bad(type, owner, $"expects flags, tag and value, got {count} fields");
                    }

                    var flags = Span(_tokens[from]);
                    if (!byte.TryParse(flags, NumberStyles.None, CultureInfo.InvariantCulture, out var f))
                    {
                        return Bad(type, owner, $"flags '{flags}' is not a number from 0 to 255");
                    }

                    var tag = Span(_tokens[from + 1]);
                    if (_tokens[from + 1].Quoted || tag.Length is 0 or > 15 || tag.ContainsAnyExcept(AsciiAlnum.Value))
                    {
                        return Bad(type, owner, $"tag '{tag}' must be 1 to 15 letters or digits (issue, issuewild, iodef, ...)");
                    }

                    _sb.Clear().Append(f).Append(' ');
                    foreach (var c in tag)
                    {
                        _sb.Append(char.ToLowerInvariant(c));
                    }

                    _sb.Append(' ');
                    return CharacterString(_tokens[from + 2], out var why, limit: 65535) ? _sb.ToString() : Bad(type, owner, why!);
                }

            case RecordTypes.Soa:
                return Soa(owner, from, count);

            case RecordTypes.Ds:
                return Digest(type, owner, from, count, "key tag, algorithm, digest type and digest", isTlsa: false);

            case RecordTypes.Tlsa:
                return Digest(type, owner, from, count, "usage, selector, matching type and data", isTlsa: true);

            default:
                return Bad(type, owner, $"type {RecordTypes.Name(type)} needs RFC 3597 data: \\# <length> <hex>");
        }
    }

    private static class AsciiAlnum
    {
        public static readonly System.Buffers.SearchValues<char> Value =
            System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    }

    private string? Bad(ushort type, string owner, string detail)
    {
        Error($"{RecordTypes.Name(type)} record '{Display(owner)}': {detail}");
        return null;
    }

    private string? Name(ushort type, string owner, int index, string what)
    {
        var t = Span(_tokens[index]);
        if (_tokens[index].Quoted)
        {
            return Bad(type, owner, $"{what} {t} must be a domain name, not a quoted string");
        }

        var name = ResolveName(t, out var why);
        return name ?? Bad(type, owner, $"{what} '{t}' is not a domain name: {why}");
    }

    private string? Soa(string owner, int from, int count)
    {
        if (count != 7)
        {
            return Bad(RecordTypes.Soa, owner, $"expects primary name server, mailbox, serial, refresh, retry, expire and minimum, got {count} fields");
        }

        var mname = Name(RecordTypes.Soa, owner, from, "primary name server");
        if (mname is null)
        {
            return null;
        }

        var rname = Name(RecordTypes.Soa, owner, from + 1, "mailbox");
        if (rname is null)
        {
            return null;
        }

        var serialText = Span(_tokens[from + 2]);
        if (!uint.TryParse(serialText, NumberStyles.None, CultureInfo.InvariantCulture, out var serial))
        {
            return Bad(RecordTypes.Soa, owner, $"serial '{serialText}' is not a number from 0 to 4294967295");
        }

        _sb.Clear().Append(mname).Append(' ').Append(rname).Append(' ').Append(serial);
        string[] what = ["refresh", "retry", "expire", "minimum"];
        for (var k = 0; k < 4; k++)
        {
            var t = Span(_tokens[from + 3 + k]);
            if (!TryTtl(t, out var seconds, out var why))
            {
                return Bad(RecordTypes.Soa, owner, $"{what[k]} '{t}': {why}");
            }

            _sb.Append(' ').Append(seconds);
        }

        return _sb.ToString();
    }

    private string? Digest(ushort type, string owner, int from, int count, string fields, bool isTlsa)
    {
        if (count < 4)
        {
            return Bad(type, owner, $"expects {fields}, got {count} fields");
        }

        var first = Span(_tokens[from]);
        int a;
        if (isTlsa)
        {
            if (!byte.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var usage))
            {
                return Bad(type, owner, $"usage '{first}' is not a number from 0 to 255");
            }

            a = usage;
        }
        else
        {
            if (!ushort.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var keyTag))
            {
                return Bad(type, owner, $"key tag '{first}' is not a number from 0 to 65535");
            }

            a = keyTag;
        }

        var second = Span(_tokens[from + 1]);
        var third = Span(_tokens[from + 2]);
        if (!byte.TryParse(second, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
        {
            return Bad(type, owner, $"{(isTlsa ? "selector" : "algorithm")} '{second}' is not a number from 0 to 255");
        }

        if (!byte.TryParse(third, NumberStyles.None, CultureInfo.InvariantCulture, out var c))
        {
            return Bad(type, owner, $"{(isTlsa ? "matching type" : "digest type")} '{third}' is not a number from 0 to 255");
        }

        _sb.Clear().Append(a).Append(' ').Append(b).Append(' ').Append(c).Append(' ');
        var hexStart = _sb.Length;
        if (!AppendHex(from + 3, out var octets, out var why))
        {
            return Bad(type, owner, why!);
        }

        var expected = (isTlsa, c) switch
        {
            (false, 1) => 20,
            (false, 2) => 32,
            (false, 4) => 48,
            (true, 1) => 32,
            (true, 2) => 64,
            _ => -1,
        };
        if (expected > 0 && octets != expected)
        {
            return Bad(type, owner, $"{(isTlsa ? "matching type" : "digest type")} {c} needs {expected} octets of data ({expected * 2} hex digits), got {octets}");
        }

        if (octets == 0 || _sb.Length == hexStart)
        {
            return Bad(type, owner, "the data is empty");
        }

        return _sb.ToString();
    }

    /// <summary>Appends the hex digits of the tokens from <paramref name="from"/> to the end, upper case, and counts the octets.</summary>
    private bool AppendHex(int from, out int octets, out string? why)
    {
        var digits = 0;
        for (var k = from; k < _tokens.Count; k++)
        {
            var t = Span(_tokens[k]);
            foreach (var ch in t)
            {
                if (!char.IsAsciiHexDigit(ch))
                {
                    octets = 0;
                    why = $"'{t}' is not hexadecimal";
                    return false;
                }

                _sb.Append(char.ToUpperInvariant(ch));
                digits++;
            }
        }

        octets = digits / 2;
        if (digits % 2 != 0)
        {
            why = "an odd number of hex digits";
            return false;
        }

        why = null;
        return true;
    }

    /// <summary>RFC 3597: <c>\# length hex</c>. Kept as such for types the parser does not know; A and AAAA are converted.</summary>
    private string? Generic(ushort type, int from, int count, string owner)
    {
        if (count < 2)
        {
            return Bad(type, owner, "RFC 3597 data needs a length: \\# <length> <hex>");
        }

        var lengthText = Span(_tokens[from + 1]);
        if (!ushort.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return Bad(type, owner, $"RFC 3597 length '{lengthText}' is not a number from 0 to 65535");
        }

        _sb.Clear().Append("\\# ").Append(length);
        if (length > 0)
        {
            _sb.Append(' ');
        }

        var hexStart = _sb.Length;
        if (!AppendHex(from + 2, out var octets, out var why))
        {
            return Bad(type, owner, why!);
        }

        if (octets != length)
        {
            return Bad(type, owner, $"RFC 3597 length {length} does not match the {octets} octets of data");
        }

        if (!RecordTypes.IsKnown(type))
        {
            return _sb.ToString();
        }

        var hex = _sb.ToString(hexStart, _sb.Length - hexStart);
        var bytes = Convert.FromHexString(hex);
        return type switch
        {
            RecordTypes.A when bytes.Length == 4 => new IPAddress(bytes).ToString(),
            RecordTypes.Aaaa when bytes.Length == 16 => new IPAddress(bytes).ToString(),
            RecordTypes.A or RecordTypes.Aaaa => Bad(type, owner, $"RFC 3597 data of {bytes.Length} octets is not an address"),
            _ => Bad(type, owner, $"write {RecordTypes.Name(type)} data in its usual form, not RFC 3597 \\#"),
        };
    }

    /// <summary>Appends one character-string (quoted or not) in canonical quoted form; at most <paramref name="limit"/> octets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool CharacterString(Token token, out string? why, int limit = 255)
    {
        var s = Span(token);
        if (token.Quoted)
        {
            s = s[1..^1];
        }

        var bytes = _bytes;
        var n = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (n + 4 > bytes.Length)
            {
                why = $"a string is longer than {limit} octets";
                return false;
            }

            if (c == '\\')
            {
                if (i + 1 < s.Length && char.IsAsciiDigit(s[i + 1]))
                {
                    if (i + 3 >= s.Length || !char.IsAsciiDigit(s[i + 2]) || !char.IsAsciiDigit(s[i + 3]))
                    {
                        why = "a '\\DDD' escape needs three digits";
                        return false;
                    }

                    var v = ((s[i + 1] - '0') * 100) + ((s[i + 2] - '0') * 10) + (s[i + 3] - '0');
                    if (v > 255)
                    {
                        why = $"escape '\\{s.Slice(i + 1, 3)}' is more than 255";
                        return false;
                    }

                    bytes[n++] = (byte)v;
                    i += 3;
                }
                else if (i + 1 < s.Length)
                {
                    bytes[n++] = (byte)s[++i];
                }
                else
                {
                    why = "ends in a lone '\\'";
                    return false;
                }
            }
            else if (c < 128)
            {
                bytes[n++] = (byte)c;
            }
            else
            {
                var rune = char.IsHighSurrogate(c) && i + 1 < s.Length ? new Rune(c, s[++i]) : new Rune(c);
                n += rune.EncodeToUtf8(bytes.AsSpan(n));
            }
        }

        if (n > limit)
        {
            why = $"a string is longer than {limit} octets ({n})";
            return false;
        }

        _sb.Append('"');
        for (var i = 0; i < n; i++)
        {
            var b = bytes[i];
            if (b is (byte)'"' or (byte)'\\')
            {
                _sb.Append('\\').Append((char)b);
            }
            else if (b is >= 0x20 and < 0x7F)
            {
                _sb.Append((char)b);
            }
            else
            {
                _sb.Append('\\').Append((char)('0' + (b / 100))).Append((char)('0' + (b / 10 % 10))).Append((char)('0' + (b % 10)));
            }
        }

        _sb.Append('"');
        why = null;
        return true;
    }

    /// <summary>Strict dotted quad (four decimal octets); the canonical text drops leading zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryIPv4(ReadOnlySpan<char> t, out string text)
    {
        text = string.Empty;
        Span<int> parts = stackalloc int[4];
        var part = 0;
        var digits = 0;
        var value = 0;
        var leadingZero = false;
        for (var i = 0; i <= t.Length; i++)
        {
            if (i == t.Length || t[i] == '.')
            {
                if (digits == 0 || part > 3)
                {
                    return false;
                }

                parts[part++] = value;
                leadingZero |= digits > 1 && t[i - digits] == '0';
                value = 0;
                digits = 0;
                continue;
            }

            var c = t[i];
            if (!char.IsAsciiDigit(c) || ++digits > 3)
            {
                return false;
            }

            value = (value * 10) + (c - '0');
            if (value > 255)
            {
                return false;
            }
        }

        if (part != 4)
        {
            return false;
        }

        text = leadingZero
            ? string.Create(CultureInfo.InvariantCulture, $"{parts[0]}.{parts[1]}.{parts[2]}.{parts[3]}")
            : new string(t);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ZoneParseResult Finish()
    {
        if (_truncated || _errors.Count >= MaxErrors)
        {
            return Result([]);
        }

        var all = _records.ToArray();
        _records.Clear();
        var records = all.AsSpan();
        var lines = CollectionsMarshal.AsSpan(_lines);
        var n = records.Length;
        var keys = new string[n];
        string? prevOwner = null;
        string? prevKey = null;
        for (var i = 0; i < n; i++)
        {
            var owner = records[i].Owner;
            if (!ReferenceEquals(owner, prevOwner))
            {
                prevOwner = owner;
                prevKey = CanonicalKey(owner);
            }

            keys[i] = prevKey!;
        }

        var comparer = new Order(keys, all);
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var sorted = true;
        for (var i = 1; i < n && sorted; i++)
        {
            sorted = comparer.Compare(i - 1, i) <= 0;
        }

        if (!sorted)
        {
            order.AsSpan().Sort(comparer);
        }

        var result = new List<ZoneRecord>(n);
        var soaLine = 0;
        var nsAtApex = false;
        var groupStart = 0;
        for (var k = 0; k < n; k++)
        {
            var i = order[k];
            ref readonly var r = ref records[i];
            if (result.Count > 0)
            {
                var last = result[^1];
                if (ReferenceEquals(keys[order[k - 1]], keys[i]) || keys[order[k - 1]] == keys[i])
                {
                    if (last.Type == r.Type && last.Data == r.Data)
                    {
                        continue; // a duplicate: RFC 2181 §5 — one record
                    }
                }
                else
                {
                    CheckOwner(groupStart, k, order, lines, records);
                    groupStart = k;
                }
            }

            if (r.Type == RecordTypes.Soa)
            {
                if (r.Owner != _apex)
                {
                    Error(lines[i], $"SOA record '{Display(r.Owner)}' is not at the zone apex ({_apex})");
                }
                else if (soaLine > 0)
                {
                    Error(lines[i], $"a second SOA record at the apex (the first is on line {soaLine})");
                }
                else
                {
                    soaLine = lines[i];
                }
            }
            else if (r.Type == RecordTypes.Ns && r.Owner == _apex)
            {
                nsAtApex = true;
            }

            result.Add(r);
        }

        if (n > 0)
        {
            CheckOwner(groupStart, n, order, lines, records);
        }

        if (soaLine == 0)
        {
            Error(1, $"no SOA record at the zone apex ({_apex})");
        }

        if (!nsAtApex)
        {
            Error(soaLine > 0 ? soaLine : 1, $"no NS record at the zone apex ({_apex})");
        }

        return Result(_errors.Count == 0 ? [.. result] : []);
    }

    /// <summary>CNAME rules for the owner whose records are order[from..to).</summary>
    private void CheckOwner(int from, int to, int[] order, ReadOnlySpan<int> lines, ReadOnlySpan<ZoneRecord> records)
    {
        if (to - from < 2)
        {
            return;
        }

        var cnameLine = 0;
        var otherLine = 0;
        ushort otherType = 0;
        for (var k = from; k < to; k++)
        {
            var i = order[k];
            var type = records[i].Type;
            if (type == RecordTypes.Cname)
            {
                if (cnameLine > 0 && !(k > from && records[order[k - 1]].Type == type && records[order[k - 1]].Data == records[i].Data))
                {
                    Error(lines[i], $"more than one CNAME at '{Display(records[i].Owner)}' (another on line {cnameLine})");
                }

                cnameLine = cnameLine == 0 ? lines[i] : cnameLine;
            }
            else if (type is not (RecordTypes.Rrsig or RecordTypes.Nsec) && otherLine == 0)
            {
                otherLine = lines[i];
                otherType = type;
            }
        }

        if (cnameLine > 0 && otherLine > 0)
        {
            Error(cnameLine, $"CNAME '{Display(records[order[from]].Owner)}' beside other data at the same owner ({RecordTypes.Name(otherType)} on line {otherLine})");
        }
    }

    private ZoneParseResult Result(ZoneRecord[] records)
    {
        var errors = _errors.OrderBy(e => e.Line).Take(MaxErrors).ToImmutableArray();
        return new ZoneParseResult(_apex, records, errors, _truncated || _errors.Count > MaxErrors);
    }

    /// <summary>Canonical order: owner (RFC 4034), then type code, then data (ordinal).</summary>
    private readonly struct Order(string[] keys, ZoneRecord[] records) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            if (x == y)
            {
                return 0;
            }

            var kx = keys[x];
            var ky = keys[y];
            var c = ReferenceEquals(kx, ky) ? 0 : string.CompareOrdinal(kx, ky);
            if (c != 0)
            {
                return c;
            }

            c = records[x].Type.CompareTo(records[y].Type);
            return c != 0 ? c : string.CompareOrdinal(records[x].Data, records[y].Data);
        }
    }
}
