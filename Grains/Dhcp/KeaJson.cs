using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ManagedServers.Grains.Dhcp;

/// <summary>A Kea configuration that cannot be taken, with where: a JSON path (<c>Dhcp4.subnet4[2].pools[0]</c>) or a line.</summary>
public sealed class KeaConfigException(string where, string message) : Exception($"{where}: {message}")
{
    /// <summary>Where the problem is: a JSON path, or <c>line N, column M</c>.</summary>
    public string Where { get; } = where;

    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; } = message;
}

/// <summary>
/// Kea's configuration syntax: JSON with comments as Kea allows them (<c>#</c> and <c>//</c> to the end of the line,
/// <c>/* … */</c>), read into <see cref="JsonNode"/>s that keep member order, and written back indented the way Kea's
/// own examples are, so a rendered configuration reads like a hand-written one.
/// </summary>
public static class KeaJson
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 4,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Parses a Kea configuration document. Comments are blanked out first (newlines kept, so positions stay right);
    /// trailing commas are taken, as Kea takes them; <c>&lt;?include?&gt;</c> directives are refused (an import takes one
    /// self-contained document).
    /// </summary>
    public static JsonObject ParseDocument(string text)
    {
        var json = StripComments(text);
        var include = json.IndexOf("<?include", StringComparison.Ordinal);
        if (include >= 0)
        {
            throw new KeaConfigException(LineOf(json, include), "<?include?> is not supported: import one self-contained document");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "the document";
            throw new KeaConfigException(where, "not valid JSON: " + FirstSentence(e.Message));
        }

        return node as JsonObject ?? throw new KeaConfigException("the document", "must be a JSON object such as {\"Dhcp4\": {…}}");
    }

    /// <summary>Indented JSON, four spaces, non-ASCII text as is, a newline at the end.</summary>
    public static string Write(JsonNode node) => node.ToJsonString(WriteOptions) + "\n";

    /// <summary>Compact JSON of a node (for <c>Extra</c> members and hook parameters).</summary>
    public static string Compact(JsonNode node) => node.ToJsonString();

    /// <summary>Blanks out <c>#</c>, <c>//</c> and <c>/* */</c> comments outside strings, keeping newlines.</summary>
    public static string StripComments(string text)
    {
        var output = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '"')
            {
                var start = i++;
                while (i < text.Length && text[i] != '"')
                {
                    i += text[i] == '\\' ? 2 : 1;
                }

                i = Math.Min(i + 1, text.Length);
                output.Append(text, start, i - start);
            }
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i < text.Length && text[i] != '\n')
                {
                    output.Append(' ');
                    i++;
                }
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 2;
                for (; i < end; i++)
                {
                    output.Append(text[i] == '\n' ? '\n' : ' ');
                }
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        return output.ToString();
    }

    private static string LineOf(string text, int index)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return $"line {line}, column {column}";
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
