using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ManagedServers.Cli.Output;

/// <summary>Value of the <c>-o|--output</c> option.</summary>
internal enum OutputMode
{
    /// <summary>Human-readable tables and grids.</summary>
    Table,

    /// <summary>The API's JSON, pretty-printed, and nothing else on stdout.</summary>
    Json,
}

/// <summary>Shared rendering: table vs JSON output, state colours, relative times, placeholders.</summary>
internal static class OutputFormat
{
    public const string None = "-";

    /// <summary>Parses the value of -o: "table" or "json", any case.</summary>
    public static bool TryParse(string? text, out OutputMode mode)
    {
        mode = text?.Trim().ToLowerInvariant() switch
        {
            null or "" or "table" => OutputMode.Table,
            "json" => OutputMode.Json,
            _ => (OutputMode)(-1),
        };
        return Enum.IsDefined(mode);
    }

    /// <summary>Prints <paramref name="json"/> (pretty) in JSON mode, otherwise calls <paramref name="renderHuman"/>.</summary>
    public static void Write(CliHost host, OutputMode mode, string json, Action renderHuman)
    {
        if (mode == OutputMode.Json)
        {
            WriteJson(host, json);
        }
        else
        {
            renderHuman();
        }
    }

    /// <summary>Pretty-prints raw JSON to stdout unchanged in content (unknown fields are kept), bypassing console wrapping.</summary>
    public static void WriteJson(CliHost host, string json)
    {
        using var doc = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            doc.WriteTo(writer);
        }

        host.Out.Write(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        host.Out.WriteLine();
        host.Out.Flush();
    }

    /// <summary>A server state, coloured: running green, pending yellow, unreachable red, stopped grey.</summary>
    public static IRenderable State(string state) => new Text(state, new Style(StateColor(state)));

    public static string StateMarkup(string state) => $"[{StateColor(state).ToMarkup()}]{Markup.Escape(state)}[/]";

    private static Color StateColor(string state) => state.ToLowerInvariant() switch
    {
        "running" => Color.Green,
        "pending" => Color.Yellow,
        "unreachable" => Color.Red,
        "stopped" => Color.Grey,
        _ => Color.Default,
    };

    /// <summary>"12s ago", "5m ago", "3h ago", "2d ago"; "never" for null.</summary>
    public static string Ago(DateTimeOffset? time, DateTimeOffset now, string never = "never")
    {
        if (time is null)
        {
            return never;
        }

        var age = now - time.Value;
        return age < TimeSpan.FromSeconds(1) ? "just now" : Duration(age) + " ago";
    }

    /// <summary>Compact duration: "12s", "5m", "3h", "2d".</summary>
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 60 } => $"{(int)span.TotalSeconds}s",
        { TotalMinutes: < 60 } => $"{(int)span.TotalMinutes}m",
        { TotalHours: < 48 } => $"{(int)span.TotalHours}h",
        _ => $"{(int)span.TotalDays}d",
    };

    /// <summary>Local date and time, with a relative hint: "2025-01-02 10:00 (3h ago)".</summary>
    public static string Timestamp(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is null)
        {
            return None;
        }

        var local = time.Value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz");
        var delta = now - time.Value;
        var hint = delta >= TimeSpan.Zero ? Ago(time, now) : "in " + Duration(-delta);
        return $"{local} ({hint})";
    }

    public static string OrNone(string? value) => string.IsNullOrEmpty(value) ? None : value;

    /// <summary>Plain (unstyled, unescaped) text for a table cell.</summary>
    public static Text Cell(string? value) => new(OrNone(value));
}
