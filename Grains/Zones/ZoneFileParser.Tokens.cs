using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ManagedServers.Grains.Zones;

/// <summary>The first phase: the entry splitter's tokens (fields, quotes, escapes, parentheses, comments) and TTL values.</summary>
public sealed partial class ZoneFileParser
{
    /// <summary>One field of an entry. <see cref="Joined"/>: it starts where the previous one ended (no blank between).</summary>
    private readonly record struct Token(int Start, int Length, bool Quoted, bool Joined);

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
}
