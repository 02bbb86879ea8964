using System.Globalization;
using System.Text.RegularExpressions;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>Zone-file text in the UI: how much a page takes, and the API's "line N: …" errors matched to their lines.</summary>
public static partial class ZoneText
{
    /// <summary>Largest zone file pasted into a page (one circuit message); uploads and the API take more.</summary>
    public const int MaxPaste = 4 * 1024 * 1024;

    /// <summary>Largest zone file uploaded through a page (streamed in chunks); bigger zones go through the API or msctl.</summary>
    public const long MaxUpload = 64L * 1024 * 1024;

    /// <summary>One refusal: the line it names (0: none), the message without its "line N:" prefix, and that line's text.</summary>
    public sealed record LineError(int Line, string Message, string? Source);

    /// <summary>The API's zone_file messages ("line 12: …"), each with the text of the line it names.</summary>
    public static IReadOnlyList<LineError> Match(string? text, IEnumerable<string> errors)
    {
        var lines = text?.Split('\n') ?? [];
        return [.. errors.Select(e =>
        {
            var m = LinePrefix().Match(e);
            if (!m.Success)
            {
                return new LineError(0, e, null);
            }

            var line = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return new LineError(line, e[m.Length..], line >= 1 && line <= lines.Length ? lines[line - 1].TrimEnd('\r') : null);
        })];
    }

    [GeneratedRegex("^line ([0-9]+): ")]
    private static partial Regex LinePrefix();
}
