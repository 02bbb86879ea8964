namespace ManagedServers.Cli.Output;

/// <summary>One-line charts of block characters (▁▂▃▄▅▆▇█).</summary>
internal static class Sparkline
{
    public const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>
    /// Draws <paramref name="points"/> over the window [<paramref name="from"/>, <paramref name="to"/>) in
    /// <paramref name="width"/> columns of equal time. A column shows the mean of its points, scaled between the
    /// lowest and highest column; a column without points (no data then) is a space. Returns the bars and the
    /// lowest and highest column value (null when there are no points).
    /// </summary>
    public static (string Bars, double? Low, double? High) Render(
        IReadOnlyList<(DateTimeOffset Time, double Value)> points, DateTimeOffset from, DateTimeOffset to, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var sums = new double[width];
        var counts = new int[width];
        var span = Math.Max((to - from).Ticks, 1);
        foreach (var (time, value) in points)
        {
            if (double.IsFinite(value))
            {
                var column = (int)Math.Clamp((time - from).Ticks * (double)width / span, 0, width - 1);
                sums[column] += value;
                counts[column]++;
            }
        }

        double? low = null, high = null;
        for (var i = 0; i < width; i++)
        {
            if (counts[i] > 0)
            {
                var mean = sums[i] / counts[i];
                sums[i] = mean;
                low = Math.Min(low ?? mean, mean);
                high = Math.Max(high ?? mean, mean);
            }
        }

        var bars = new char[width];
        for (var i = 0; i < width; i++)
        {
            bars[i] = counts[i] == 0 ? ' ' : Level(sums[i], low!.Value, high!.Value);
        }

        return (new string(bars), low, high);
    }

    private static char Level(double value, double low, double high)
    {
        if (high - low < 1e-9)
        {
            // A flat line: at the bottom when it is zero, in the middle otherwise.
            return Math.Abs(value) < 1e-9 ? Levels[0] : Levels[Levels.Length / 2];
        }

        var index = (int)Math.Round((value - low) / (high - low) * (Levels.Length - 1));
        return Levels[Math.Clamp(index, 0, Levels.Length - 1)];
    }
}
