using System.Globalization;

namespace ManagedServers.Contracts;

/// <summary>
/// Durations as people write them: a number and a unit (s, m, h, d, w), possibly several: 15m, 1h, 1h30m, 2d, 30d.
/// Used by the CLI's <c>--since</c> and by token lifetimes (<see cref="Api.TokenLifetimes"/>), on both sides of the API.
/// </summary>
public static class Durations
{
    /// <summary>Parses <paramref name="text"/>; false when it is not such a duration, is zero, or is over <paramref name="max"/>.</summary>
    public static bool TryParse(string? text, TimeSpan max, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var s = text?.Trim().ToLowerInvariant() ?? "";
        if (s.Length == 0)
        {
            return false;
        }

        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == start || i - start > 7 || i == s.Length)
            {
                return false;
            }

            var number = long.Parse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            TimeSpan? part = s[i] switch
            {
                's' => TimeSpan.FromSeconds(number),
                'm' => TimeSpan.FromMinutes(number),
                'h' => TimeSpan.FromHours(number),
                'd' => TimeSpan.FromDays(number),
                'w' => TimeSpan.FromDays(7 * number),
                _ => null,
            };
            if (part is null)
            {
                return false;
            }

            duration += part.Value;
            if (duration > max)
            {
                return false;
            }

            i++;
        }

        return duration > TimeSpan.Zero;
    }

    /// <summary>The short form: "30d", "12h", "1d12h", "90s".</summary>
    public static string Format(TimeSpan duration)
    {
        var parts = new List<string>(4);
        if (duration.Days > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Days}d"));
        }

        if (duration.Hours > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Hours}h"));
        }

        if (duration.Minutes > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}m"));
        }

        if (duration.Seconds > 0 || parts.Count == 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Seconds}s"));
        }

        return string.Concat(parts);
    }
}
