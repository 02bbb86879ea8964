using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// Removes secrets from files before they go into a debug bundle, keeping everything else: JSON (Kea, agent.json,
/// amqp.json) is rewritten with the value of every key that looks secret (<c>pass</c>, <c>secret</c>, <c>token</c>
/// anywhere, or ending in <c>key</c>) replaced; Knot's YAML-like configuration gets the same treatment line by line
/// (<c>secret:</c> in <c>key:</c> sections); private keys are never included.
/// </summary>
internal static partial class Redaction
{
    public const string Redacted = "<redacted>";

    /// <summary>Whether a JSON property name names a secret.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    /// <summary>Whether text holds a PEM private key (never bundled, whatever the file is called).</summary>
    public static bool HasPrivateKey(string text) =>
        text.Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    /// <summary>Whether a file name is one that must never be bundled (key.pem, *.new.pem, *.key).</summary>
    public static bool IsKeyFile(string path)
    {
        var name = Path.GetFileName(path);
        return name.EndsWith("key.pem", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".new.pem", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".key", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>JSON with secret values replaced. Kea allows comments; when the text is not parseable JSON, falls back to <see cref="RedactJsonText"/>.</summary>
    public static string RedactJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                Write(writer, document.RootElement);
            }

            return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
        }
        catch (JsonException)
        {
            return RedactJsonText(json);
        }
    }

    /// <summary>Text-level redaction of <c>"secret-name": value</c> pairs (JSON that does not parse, e.g. with <c>#</c> comments).</summary>
    public static string RedactJsonText(string text) =>
        JsonPair().Replace(text, m => m.Groups["name"].Value is var name && IsSecretName(name) ? m.Groups["lead"].Value + "\"" + Redacted + "\"" : m.Value);

    /// <summary>Knot configuration (and other <c>name: value</c> text) with secret values replaced.</summary>
    public static string RedactYaml(string text) =>
        YamlPair().Replace(text, m => IsSecretName(m.Groups["name"].Value) && !IsReference(m.Groups["name"].Value) ? m.Groups["lead"].Value + Redacted : m.Value);

    // In Knot, "key: <id>" in remote/acl sections names a key; the secret is in the key section's "secret:".
    private static bool IsReference(string name) => name.Equals("key", StringComparison.OrdinalIgnoreCase);

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    if (IsSecretName(property.Name) && property.Value.ValueKind != JsonValueKind.Null)
                    {
                        writer.WriteStringValue(Redacted); // the whole value, even an object: it may be the secret's container
                    }
                    else
                    {
                        Write(writer, property.Value);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    [GeneratedRegex(@"pass|secret|token|key$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?<lead>""(?<name>[^""\\]*)""\s*:\s*)(?<value>""(?:[^""\\]|\\.)*""|[^\s,\}\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex JsonPair();

    [GeneratedRegex(@"(?<lead>(?<name>[A-Za-z0-9_-]+)[ \t]*:[ \t]*)(?<value>""[^""\r\n]*""|'[^'\r\n]*'|[^\s,\}\]#]+)", RegexOptions.CultureInvariant)]
    private static partial Regex YamlPair();
}
