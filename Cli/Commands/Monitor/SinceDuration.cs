namespace ManagedServers.Cli.Commands.Monitor;

/// <summary>Durations of <c>--since</c>: a number and a unit (s, m, h, d, w), possibly several: 15m, 1h, 1h30m, 2d, 30d.</summary>
internal static class SinceDuration
{
    /// <summary>The longest window: aggregates are kept at most 3660 days.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3660);

    public const string Hint = "expected a duration like 15m, 1h, 6h, 2d or 30d";

    public static bool TryParse(string? text, out TimeSpan duration) => Contracts.Durations.TryParse(text, Max, out duration);
}
