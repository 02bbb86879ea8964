using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using ManagedServers.Grains.Interfaces.Zones;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// The outcome of parsing a zone file: its records in canonical order (duplicates dropped) or its errors, and the
/// warnings about what was accepted as Knot accepts it (out-of-zone data ignored, record-set TTLs made equal, missing
/// glue, ...).
/// </summary>
public sealed class ZoneParseResult(string apex, ZoneRecord[] records, ImmutableArray<ZoneError> errors, bool truncated, ImmutableArray<ZoneError> warnings, bool warningsTruncated)
{
    /// <summary>The zone apex, absolute ("example.com.", or "." for the root zone).</summary>
    public string Apex { get; } = apex;

    public ZoneRecord[] Records { get; } = records;

    public ImmutableArray<ZoneError> Errors { get; } = errors;

    /// <summary>More errors were found than <see cref="Errors"/> holds.</summary>
    public bool Truncated { get; } = truncated;

    /// <summary>What Knot loads but reports (or its optional checks flag), in line order; at most <see cref="ZoneFileParser.MaxErrors"/>.</summary>
    public ImmutableArray<ZoneError> Warnings { get; } = warnings;

    /// <summary>More warnings were found than <see cref="Warnings"/> holds.</summary>
    public bool WarningsTruncated { get; } = warningsTruncated;

    public bool Ok => Errors.IsEmpty;
}

/// <summary>
/// RFC 1035 master-file parser and validator for one zone that accepts what Knot 3.2 loads and refuses what it refuses.
/// A line-tracking entry splitter (parentheses, quotes, comments, escapes, $ORIGIN, $TTL, '@', blank owner = previous
/// owner, relative names) feeds per-type RDATA parsers that follow Knot's zone scanner (libzscanner) field by field and
/// write the record's wire form; <see cref="RdataText"/> turns that into the record's canonical text. RFC 3597
/// <c>\# length hex</c> is read for every type and written in the type's own form where it has one. Then one pass over the
/// records in canonical order applies the rules Knot applies when it loads a zone (an SOA at the apex; CNAME and DNAME
/// alone; no child below a DNAME) as errors, and the rest of what Knot reports or its optional checks flag (no NS at the
/// apex, missing glue, out-of-zone data, a second SOA, unequal TTLs in a record set) as warnings.
/// Every error and warning carries its line and the record's owner; parsing stops after <see cref="MaxErrors"/> errors.
/// </summary>
public sealed partial class ZoneFileParser
{
    public const int MaxErrors = 100;

    /// <summary>The TTL of a record without one before any <c>$TTL</c>: Knot 3.2's (zs_init with 3600).</summary>
    public const int DefaultTtl = 3600;

    private readonly string _text;
    private readonly string _apex;
    private readonly byte[] _apexWire;
    private readonly List<Token> _tokens = new(16);
    private readonly List<ZoneError> _errors = [];
    private readonly List<ZoneError> _warnings = [];
    private readonly List<ZoneRecord> _records;
    private readonly List<int> _lines;
    private readonly StringBuilder _sb = new(256);
    private readonly char[] _scratch = new char[1200];
    private readonly byte[] _nameWire = new byte[256];
    private readonly byte[] _w = new byte[65536 + 1024];
    private int _wn;
    private string _origin;
    private byte[] _originWire;
    private int _pos;
    private int _line = 1;
    private int _entryLine;
    private bool _blankOwner;
    private string? _entryError;
    private uint _defaultTtl = DefaultTtl;
    private string? _prevOwner;
    private bool _prevOwnerInZone;
    private Token _prevOwnerToken;
    private string? _prevOwnerOrigin;
    private bool _truncated;
    private bool _warningsTruncated;
    private bool _crlfWarned;

    private ZoneFileParser(string text, string apex, int capacity)
    {
        _text = text;
        _apex = apex;
        _origin = apex;
        _apexWire = apex == "." ? [0] : WireOfAbsolute(apex);
        _originWire = _apexWire;
        _records = new List<ZoneRecord>(capacity);
        _lines = new List<int>(capacity);
    }

    /// <summary>One field of an entry. <see cref="Joined"/>: it starts where the previous one ended (no blank between).</summary>
    private readonly record struct Token(int Start, int Length, bool Quoted, bool Joined);

    /// <summary>Parses and validates the zone file <paramref name="text"/> of the zone <paramref name="zone"/> (normalised name).</summary>
    public static ZoneParseResult Parse(string text, string zone)
    {
        var apex = ZoneNames.Apex(zone);
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
        var parser = new ZoneFileParser(input.Data ?? string.Empty, ZoneNames.Apex(zone), 1);
        string? owner = null;
        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(new ZoneError(0, "name", "is required: a name relative to the zone (www, @) or absolute (www.example.com.)"));
        }
        else
        {
            owner = parser.Owner(input.Name.Trim(), out var inZone, out var why);
            if (owner is null)
            {
                errors.Add(new ZoneError(0, "name", why!));
            }
            else if (!inZone)
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

        if (string.IsNullOrWhiteSpace(input.Data) && type != RecordTypes.Apl)
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
        else if (parser._tokens.Count == 0 && type != RecordTypes.Apl)
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

    /// <summary>True when the canonical name <paramref name="name"/> is <paramref name="ancestor"/> or below it.</summary>
    public static bool IsAtOrBelow(string name, string ancestor) =>
        ancestor == "." || name == ancestor
        || (name.Length > ancestor.Length && name.EndsWith(ancestor, StringComparison.Ordinal) && name[^(ancestor.Length + 1)] == '.' && !IsEscaped(name, name.Length - ancestor.Length - 1));

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

    private void Error(string message) => Error(_entryLine, message);

    private void Error(int line, string message)
    {
        if (_errors.Count >= MaxErrors)
        {
            _truncated = true;
            return;
        }

        _errors.Add(new ZoneError(line, "zone_file", message));
    }

    private void Warn(int line, string message)
    {
        if (_warnings.Count >= MaxErrors)
        {
            _warningsTruncated = true;
            return;
        }

        _warnings.Add(new ZoneError(line, "zone_file", message));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseEntries()
    {
        while (_pos < _text.Length)
        {
            _entryLine = _line;
            var c = _text[_pos];
            _blankOwner = c is ' ' or '\t' or '('; // Knot: an entry that starts with a blank or '(' has no owner of its own
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

    /// <summary>
    /// Reads one entry's tokens: to the end of the line, or of the last line of a parenthesised group (where a quoted
    /// string may go on over lines, as in Knot).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadTokens()
    {
        _tokens.Clear();
        _entryError = null;
        var text = _text;
        var n = text.Length;
        var depth = 0;
        var lastEnd = -1;
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
                case ' ' or '\t':
                    _pos++;
                    break;
                case '\r':
                    if (!_crlfWarned)
                    {
                        _crlfWarned = true;
                        Warn(_line, "CR (Windows) line ends: Knot refuses a file with CR bytes as it is; they are read as blanks and the stored zone has plain LF line ends");
                    }

                    _pos++;
                    break;
                case ';':
                    while (_pos < n && text[_pos] != '\n')
                    {
                        _pos++;
                    }

                    break;
                case '(':
                    if (depth > 0)
                    {
                        _entryError ??= "'(' inside parentheses";
                    }

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
                        while (_pos < n && text[_pos] != '"' && (text[_pos] != '\n' || depth > 0))
                        {
                            if (text[_pos] == '\n')
                            {
                                _line++;
                            }

                            _pos += text[_pos] == '\\' && _pos + 1 < n && text[_pos + 1] != '\n' ? 2 : 1;
                        }

                        if (_pos >= n || text[_pos] == '\n')
                        {
                            _entryError ??= "quoted string not closed on its line";
                            break;
                        }

                        _pos++;
                        _tokens.Add(new Token(start, _pos - start, true, start == lastEnd));
                        lastEnd = _pos;
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

                        _tokens.Add(new Token(start, _pos - start, false, start == lastEnd));
                        lastEnd = _pos;
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
        var inZone = false;
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
                var resolved = tokens[0].Quoted || (tokens.Count > 1 && tokens[1].Joined) ? null : Owner(first, out inZone, out why);
                if (resolved is null)
                {
                    Error($"bad owner name '{first}': {why ?? "a quote inside a name"}");
                    return;
                }

                owner = resolved;
                _prevOwner = owner;
                _prevOwnerToken = tokens[0];
                _prevOwnerOrigin = _origin;
                _prevOwnerInZone = inZone;
            }

            i = 1;
        }

        var ttl = -1L;
        var classSeen = false;
        for (var k = 0; k < 2 && i < tokens.Count; k++)
        {
            var t = Span(tokens[i]);
            if (!classSeen && !tokens[i].Quoted && t.Equals("IN", StringComparison.OrdinalIgnoreCase))
            {
                classSeen = true;
                i++;
                continue;
            }

            if (!classSeen && !tokens[i].Quoted && IsOtherClass(t))
            {
                Error($"class '{t}' is not supported: only IN");
                return;
            }

            if (ttl < 0 && !tokens[i].Quoted && t.Length > 0 && (char.IsAsciiDigit(t[0]) || t[0] is '-' or '+'))
            {
                if (!TryTime(t, out var seconds, out var why))
                {
                    Error($"bad TTL '{t}': {why}");
                    return;
                }

                ttl = seconds;
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
        if (tokens[i].Quoted || !RecordTypes.TryParse(typeText, out var type))
        {
            Error(typeText.Length > 0 && char.IsAsciiLetter(typeText[0])
                ? $"record '{Display(owner)}': type '{typeText}' is not a type Knot reads: use one of {RecordTypes.KnownList}, or TYPEnnn with RFC 3597 data (\\# length hex)"
                : $"record '{Display(owner)}': '{typeText}' is not a record type");
            return;
        }

        var data = Rdata(type, i + 1, owner);
        if (data is null)
        {
            return;
        }

        if (!inZone)
        {
            Warn(_entryLine, $"{RecordTypes.Name(type)} record '{owner}' is outside the zone {_apex}: ignored (as Knot ignores out-of-zone data)");
            return;
        }

        var stored = ttl < 0 ? StoredTtl(_defaultTtl, null, owner) : ttl <= int.MaxValue ? (int)ttl : StoredTtl((uint)ttl, type, owner);
        _records.Add(new ZoneRecord(owner, type, stored, data));
        _lines.Add(_entryLine);
    }

    /// <summary>
    /// A TTL as stored: Knot reads up to 4294967295, but RFC 2181 §8 makes any value over 2147483647 mean 0, so such a
    /// TTL is stored as 0 with a warning (<paramref name="type"/> null: the <c>$TTL</c> line warned already).
    /// </summary>
    private int StoredTtl(uint ttl, ushort? type, string owner)
    {
        if (ttl <= int.MaxValue)
        {
            return (int)ttl;
        }

        if (type is { } t)
        {
            Warn(_entryLine, $"{RecordTypes.Name(t)} record '{Display(owner)}': TTL {ttl} is over 2147483647, which resolvers read as 0 (RFC 2181 §8): stored as 0");
        }

        return 0;
    }

    private static bool IsOtherClass(ReadOnlySpan<char> t) =>
        t.Equals("CH", StringComparison.OrdinalIgnoreCase) || t.Equals("HS", StringComparison.OrdinalIgnoreCase)
        || t.Equals("CS", StringComparison.OrdinalIgnoreCase) || t.Equals("NONE", StringComparison.OrdinalIgnoreCase)
        || t.Equals("ANY", StringComparison.OrdinalIgnoreCase) || (t.Length > 5 && t[..5].Equals("CLASS", StringComparison.OrdinalIgnoreCase));

    private void Directive(ReadOnlySpan<char> name)
    {
        var args = _tokens.Count - 1;
        if (name.Equals("$ORIGIN", StringComparison.OrdinalIgnoreCase))
        {
            if (args != 1 || _tokens[1].Quoted)
            {
                Error("$ORIGIN takes one absolute name");
                return;
            }

            var arg = Span(_tokens[1]);
            if (arg.Length == 0 || arg[^1] != '.' || IsEscaped(arg, arg.Length - 1))
            {
                Error($"$ORIGIN '{arg}' must be an absolute name (ending in '.')");
                return;
            }

            // The origin keeps its case: names relative to it in data that is not lower-cased (NSEC, SVCB, ...) keep it too, as in Knot.
            if (!TryNameWire(arg, _nameWire, out var length, out var why, lower: false))
            {
                Error($"bad $ORIGIN '{arg}': {why}");
                return;
            }

            _originWire = _nameWire.AsSpan(0, length).ToArray();
            _origin = NameText(_originWire, lower: true);
        }
        else if (name.Equals("$TTL", StringComparison.OrdinalIgnoreCase))
        {
            if (args != 1 || _tokens[1].Quoted)
            {
                Error("$TTL takes one TTL");
                return;
            }

            var arg = Span(_tokens[1]);
            if (!TryTime(arg, out var ttl, out var why))
            {
                Error($"bad TTL '{arg}' in $TTL: {why}");
                return;
            }

            if (ttl > int.MaxValue)
            {
                Warn(_entryLine, $"$TTL {ttl} is over 2147483647, which resolvers read as 0 (RFC 2181 §8): records without a TTL are stored with 0");
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

    /// <summary>
    /// A time as Knot reads TTLs and SOA timers: seconds, or blocks with units (<c>1h30m</c>, <c>2d</c>, <c>1w</c>; every
    /// block after the first needs a unit), at most 4294967295.
    /// </summary>
    public static bool TryTime(ReadOnlySpan<char> t, out uint value, out string? why)
    {
        value = 0;
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

        ulong total = 0;
        var i = 0;
        var block = 0;
        while (i < t.Length)
        {
            ulong number = 0;
            var digits = 0;
            while (i < t.Length && char.IsAsciiDigit(t[i]))
            {
                number = (number * 10) + (ulong)(t[i] - '0');
                digits++;
                i++;
                if (number > uint.MaxValue)
                {
                    why = "more than 4294967295";
                    return false;
                }
            }

            if (digits == 0)
            {
                why = "not a number of seconds (or a duration such as 1h30m)";
                return false;
            }

            if (i == t.Length)
            {
                if (block > 0)
                {
                    why = "every part after the first needs a unit (s, m, h, d, w): 1h30m, not 1h30";
                    return false;
                }

                value = (uint)number;
                return true;
            }

            ulong factor = char.ToLowerInvariant(t[i]) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                'w' => 604800,
                _ => 0,
            };
            if (factor == 0)
            {
                why = "not a number of seconds (or a duration such as 1h30m)";
                return false;
            }

            i++;
            total += number * factor;
            if (number * factor > uint.MaxValue || total >= uint.MaxValue)
            {
                why = "more than 4294967295";
                return false;
            }

            block++;
        }

        value = (uint)total;
        return true;
    }

    /// <summary>
    /// The canonical owner name for <paramref name="s"/> ('@', relative to $ORIGIN, or absolute), and whether it is the
    /// apex or below it; null with the reason when it is not a name Knot reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? Owner(ReadOnlySpan<char> s, out bool inZone, out string? why)
    {
        inZone = false;
        if (!TryNameWire(s, _nameWire, out var length, out why))
        {
            return null;
        }

        var wire = _nameWire.AsSpan(0, length);
        inZone = IsSubdomain(wire, _apexWire);
        return NameText(wire, lower: true);
    }

    /// <summary>The canonical text of a wire name.</summary>
    private string NameText(ReadOnlySpan<byte> wire, bool lower)
    {
        if (wire.Length == 1)
        {
            return ".";
        }

        var n = RdataText.WriteName(wire, _scratch, lower, out _);
        return new string(_scratch, 0, n);
    }

    /// <summary>True when the wire name <paramref name="name"/> is <paramref name="ancestor"/> or below it (label-aligned, both lower case).</summary>
    private static bool IsSubdomain(ReadOnlySpan<byte> name, ReadOnlySpan<byte> ancestor)
    {
        var p = 0;
        while (true)
        {
            if (name.Length - p == ancestor.Length && name[p..].SequenceEqual(ancestor))
            {
                return true;
            }

            if (p >= name.Length || name[p] == 0)
            {
                return false;
            }

            p += name[p] + 1;
        }
    }

    /// <summary>
    /// Writes the wire form of a name token (lower case) as Knot's scanner reads it: '@' is the origin; a name without a
    /// trailing '.' is relative to the origin; labels of letters, digits, '*', '-', '_' and '/', or any octet escaped
    /// as <c>\x</c> or <c>\DDD</c>; labels of at most 63 octets, names of at most 255.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryNameWire(ReadOnlySpan<char> s, Span<byte> dest, out int length, out string? why, bool lower = true)
    {
        length = 0;
        why = null;
        if (s.Length == 0)
        {
            why = "empty name";
            return false;
        }

        if (s.Length == 1 && s[0] == '@')
        {
            _originWire.CopyTo(dest);
            length = _originWire.Length;
            if (lower)
            {
                LowerCase(dest[..length]);
            }

            return true;
        }

        if (s.Length == 1 && s[0] == '.')
        {
            dest[0] = 0;
            length = 1;
            return true;
        }

        var n = 0;
        var labelStart = 0;
        var absolute = false;
        dest[n++] = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            byte b;
            if (c == '.')
            {
                if (n - labelStart - 1 == 0)
                {
                    why = "empty label ('..' or a leading '.')";
                    return false;
                }

                dest[labelStart] = (byte)(n - labelStart - 1);
                if (i == s.Length - 1)
                {
                    absolute = true;
                    break;
                }

                if (n >= 255)
                {
                    why = "longer than 255 octets";
                    return false;
                }

                labelStart = n;
                dest[n++] = 0;
                continue;
            }

            if (c == '\\')
            {
                if (i + 1 >= s.Length)
                {
                    why = "ends in a lone '\\'";
                    return false;
                }

                if (char.IsAsciiDigit(s[i + 1]))
                {
                    if (i + 3 >= s.Length || !char.IsAsciiDigit(s[i + 2]) || !char.IsAsciiDigit(s[i + 3]))
                    {
                        why = "a '\\DDD' escape needs three digits";
                        return false;
                    }

                    // Knot adds the digits into one octet without a range check: \999 is octet 231.
                    b = (byte)(((s[i + 1] - '0') * 100) + ((s[i + 2] - '0') * 10) + (s[i + 3] - '0'));
                    i += 3;
                }
                else
                {
                    b = s[i + 1] > 127 ? (byte)0 : (byte)s[i + 1];
                    if (s[i + 1] > 127)
                    {
                        why = "non-ASCII characters: write an internationalised name in its xn-- form";
                        return false;
                    }

                    i++;
                }
            }
            else if (char.IsAsciiLetterOrDigit(c) || c is '*' or '-' or '_' or '/')
            {
                b = (byte)c;
            }
            else
            {
                why = c > '~' ? "non-ASCII characters: write an internationalised name in its xn-- form"
                    : c <= ' ' ? "control or blank characters must be escaped (\\DDD)"
                    : $"'{c}' is not allowed in a name: use letters, digits, '-', '_', '*' and '/', or escape it (\\{c})";
                return false;
            }

            if (n - labelStart - 1 >= 63)
            {
                why = "a label is longer than 63 octets";
                return false;
            }

            dest[n++] = lower && b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
        }

        if (!absolute)
        {
            dest[labelStart] = (byte)(n - labelStart - 1);
            if (n + _originWire.Length > 255)
            {
                why = "longer than 255 octets";
                return false;
            }

            _originWire.CopyTo(dest[n..]);
            if (lower)
            {
                LowerCase(dest.Slice(n, _originWire.Length));
            }

            n += _originWire.Length;
        }
        else
        {
            if (n + 1 > 255)
            {
                why = "longer than 255 octets";
                return false;
            }

            dest[n++] = 0;
        }

        length = n;
        return true;
    }

    private static void LowerCase(Span<byte> wire)
    {
        for (var i = 0; i < wire.Length; i++)
        {
            if (wire[i] is >= (byte)'A' and <= (byte)'Z')
            {
                wire[i] += 32;
            }
        }
    }

    /// <summary>The wire form of an absolute canonical name such as the apex.</summary>
    private static byte[] WireOfAbsolute(string name)
    {
        var parser = new ZoneFileParser(string.Empty, ".", 0);
        return parser.TryNameWire(name, parser._nameWire, out var length, out var why)
            ? parser._nameWire.AsSpan(0, length).ToArray()
            : throw new ArgumentException($"'{name}' is not a zone name: {why}", nameof(name));
    }

    private string Display(string owner) => Display(owner, _apex);

    private static string Display(string owner, string apex) =>
        owner == apex ? "@"
        : apex == "." ? owner
        : IsAtOrBelow(owner, apex) ? owner[..^(apex.Length + 1)] : owner;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ZoneParseResult Finish()
    {
        if (_truncated || _errors.Count >= MaxErrors)
        {
            return Result([]);
        }

        var all = _records.ToArray();
        _records.Clear();
        var lines = CollectionsMarshal.AsSpan(_lines).ToArray();
        var rules = new ZoneRules(_apex, all, lines, Error, Warn);
        var result = rules.Check();
        return Result(_errors.Count == 0 ? result : []);
    }

    private ZoneParseResult Result(ZoneRecord[] records)
    {
        var errors = _errors.OrderBy(e => e.Line).Take(MaxErrors).ToImmutableArray();
        var warnings = _warnings.OrderBy(e => e.Line).ToImmutableArray();
        return new ZoneParseResult(_apex, records, errors, _truncated || _errors.Count > MaxErrors, warnings, _warningsTruncated);
    }
}
