using System.Net;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Cli.Api;

/// <summary>
/// The API answered with an error status. Built from an RFC 9457 problem+json body when there is one;
/// <see cref="Exception.Message"/> is the one-line form "title: field: message; field: message" (or "title: detail").
/// </summary>
internal sealed class ApiException : Exception
{
    public ApiException(HttpStatusCode status, string title, string? detail, IReadOnlyList<KeyValuePair<string, string[]>> errors)
        : base(Format(title, detail, errors))
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors;
    }

    public HttpStatusCode Status { get; }

    public string Title { get; }

    public string? Detail { get; }

    /// <summary>Field errors of a 400 (field name → messages), in the order the server sent them.</summary>
    public IReadOnlyList<KeyValuePair<string, string[]>> Errors { get; }

    /// <summary>Builds the exception from an error response body (problem+json, or anything else).</summary>
    public static ApiException FromResponse(HttpStatusCode status, string? reasonPhrase, string body)
    {
        var fallbackTitle = string.IsNullOrWhiteSpace(reasonPhrase) ? $"HTTP {(int)status}" : reasonPhrase;
        string? title = null;
        string? detail = null;
        var errors = new List<KeyValuePair<string, string[]>>();
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = GetString(root, "title");
                detail = GetString(root, "detail");
                if (root.TryGetProperty("errors", out var errs) && errs.ValueKind == JsonValueKind.Object)
                {
                    foreach (var field in errs.EnumerateObject())
                    {
                        var messages = field.Value.ValueKind switch
                        {
                            JsonValueKind.Array => field.Value.EnumerateArray().Select(ToText).ToArray(),
                            _ => [ToText(field.Value)],
                        };
                        errors.Add(new(field.Name, messages));
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, plain text...): keep the first line as detail.
            detail = FirstLine(body);
        }

        return new ApiException(status, string.IsNullOrWhiteSpace(title) ? fallbackTitle : title, detail, errors);
    }

    private static string Format(string title, string? detail, IReadOnlyList<KeyValuePair<string, string[]>> errors)
    {
        var sb = new StringBuilder(title);
        if (errors.Count > 0)
        {
            // "One or more validation errors occurred." reads better without its period before the list.
            sb.Length -= title.Length - title.TrimEnd('.').Length;
            sb.Append(": ");
            sb.AppendJoin("; ", errors.SelectMany(e => e.Value.Length == 0
                ? [e.Key]
                : e.Value.Select(m => string.IsNullOrEmpty(e.Key) ? m : $"{e.Key}: {m}")));
        }
        else if (!string.IsNullOrWhiteSpace(detail) && !string.Equals(detail, title, StringComparison.Ordinal))
        {
            sb.Append(": ").Append(detail);
        }

        return OneLine(sb.ToString());
    }

    private static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string ToText(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.GetRawText();

    private static string? FirstLine(string body)
    {
        var line = body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return line is null ? null : line.Length > 200 ? line[..200] + "…" : line;
    }

    internal static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>No HTTP response at all: connection refused, DNS failure, TLS failure or timeout.</summary>
internal sealed class ApiUnreachableException(Uri baseUrl, string reason, Exception? inner = null)
    : Exception($"cannot reach {baseUrl.ToString().TrimEnd('/')}: {reason}", inner)
{
    public Uri BaseUrl { get; } = baseUrl;

    public string Reason { get; } = reason;
}
