using System.Globalization;

namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>
/// The one spelling of a zone name everyone uses as the zone grain's key, in URLs and in listings: lower case ASCII
/// (IDNs in their xn-- form), no trailing dot, 1–253 characters, labels of 1–63 letters, digits, '-', '_' or '/' (the
/// '/' of RFC 2317 classless reverse zones such as <c>0/25.2.0.192.in-addr.arpa</c>). The root zone is <c>.</c>.
/// In URLs a zone name is written as <see cref="ManagedServers.Contracts.Api.ZoneUrl"/> says ('/' as %2F, the root zone as @).
/// </summary>
public static class ZoneNames
{
    /// <summary>The root zone's name (and key).</summary>
    public const string Root = ".";

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    /// <summary>The normalised name, or false with a reason when <paramref name="name"/> is not a valid zone name.</summary>
    public static bool TryNormalize(string? name, out string normalized, out string error)
    {
        normalized = string.Empty;
        var text = name?.Trim() ?? string.Empty;
        if (text == Root)
        {
            normalized = Root;
            error = string.Empty;
            return true;
        }

        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        if (text.Length == 0)
        {
            error = "is required: a domain name such as example.com (the root zone is '.')";
            return false;
        }

        if (text.Any(c => c > 127))
        {
            try
            {
                text = Idn.GetAscii(text);
            }
            catch (ArgumentException)
            {
                error = $"'{name}' is not a valid internationalised domain name";
                return false;
            }
        }

        text = text.ToLowerInvariant();
        if (text.Length > 253)
        {
            error = "is longer than 253 characters";
            return false;
        }

        foreach (var label in text.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                error = $"'{name}' is not a domain name: every label must have 1 to 63 characters";
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/'))
                {
                    error = $"'{name}' is not a domain name: use letters, digits, '-', '_' and '/' in dot-separated labels";
                    return false;
                }
            }

            if (label[0] is '-' or '/' || label[^1] is '-' or '/')
            {
                error = $"'{name}' is not a domain name: a label may not start or end with '-' or '/'";
                return false;
            }
        }

        normalized = text;
        error = string.Empty;
        return true;
    }

    /// <summary>The zone's apex as an absolute name: "example.com." (or "." for the root zone).</summary>
    public static string Apex(string normalized) => normalized == Root ? Root : normalized + ".";

    /// <summary>The normalised name; throws <see cref="ArgumentException"/> when it is not a valid zone name.</summary>
    public static string Normalize(string? name) =>
        TryNormalize(name, out var normalized, out var error) ? normalized : throw new ArgumentException(error, nameof(name));
}
