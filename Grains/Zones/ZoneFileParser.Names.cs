using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ManagedServers.Grains.Zones;

/// <summary>Domain names: owners and names in RDATA to wire form and back, relative to $ORIGIN, compared and displayed.</summary>
public sealed partial class ZoneFileParser
{
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
}
