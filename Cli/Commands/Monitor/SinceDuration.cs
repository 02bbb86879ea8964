using System.Globalization;

namespace ManagedServers.Cli.Commands.Monitor;

/// <summary>Durations of <c>--since</c>: a number and a unit (s, m, h, d, w), possibly several: 15m, 1h, 1h30m, 2d, 30d.</summary>
internal static class SinceDuration
{
    /// <summary>The longest window: aggregates are kept at most 3660 days.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3660);

    public const string Hint = "expected a duration like 15m, 1h, 6h, 2d or 30d";

    public static bool TryParse(string? text, out TimeSpan duration)
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
            if (duration > Max)
            {
                return false;
            }

            i++;
        }

        return duration > TimeSpan.Zero;
    }
}
