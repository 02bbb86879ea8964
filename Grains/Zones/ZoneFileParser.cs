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
