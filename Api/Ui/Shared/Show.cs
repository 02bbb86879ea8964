using System.Globalization;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>How pages write values: times in UTC, a dash for nothing, numbers with group separators, words capitalised.</summary>
public static class Show
{
    public const string Nothing = "—";

    /// <summary>A time as "2026-12-04 19:07:55 UTC" (<paramref name="seconds"/>) or "2026-12-04 19:07 UTC"; a dash for none.</summary>
    public static string When(DateTimeOffset? at, bool seconds = true) =>
        at is { } t ? t.UtcDateTime.ToString(seconds ? "yyyy-MM-dd HH:mm:ss 'UTC'" : "yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : Nothing;

    /// <summary>The text, or a dash when it is empty.</summary>
    public static string Or(string? value) => string.IsNullOrEmpty(value) ? Nothing : value;

    /// <summary>"running" → "Running"; an empty text stays empty.</summary>
    public static string Title(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>12345 → "12,345".</summary>
    public static string Count(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>1536 → "1.5 KiB".</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
    };

    /// <summary>"21 to 40 of 1,234 items" for the <paramref name="shown"/> rows of page <paramref name="page"/>; "0 items" for none.</summary>
    public static string Range(int page, int perPage, int shown, int total, string noun = "items") =>
        total == 0 ? $"0 {noun}" : $"{Count(((page - 1) * perPage) + 1)} to {Count(((page - 1) * perPage) + shown)} of {Count(total)} {noun}";

    /// <summary>What a person typed, trimmed; null when there is nothing (an empty field is left out of a request or an address).</summary>
    public static string? Typed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
