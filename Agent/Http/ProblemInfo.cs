using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ManagedServers.Agent.Http;

/// <summary>The parts of an RFC 9457 problem+json body the agent uses, read without reflection.</summary>
internal sealed record ProblemInfo(HttpStatusCode Status, string? Type, string? Title, string? Detail, string? ReasonPhrase)
{

    private const int MaxBodyBytes = 64 * 1024;

    public bool IsAgentRevoked =>
        Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
        && string.Equals(Type, Contracts.Agent.AgentApi.RevokedProblemType, StringComparison.Ordinal);

    /// <summary>The detail (or title, or reason phrase) and the status, e.g. <c>enrolment token expired (HTTP 401)</c>.</summary>
    public string Describe()
    {
        var text = FirstNonEmpty(Detail, Title, ReasonPhrase) ?? "request failed";
        return $"{text} (HTTP {(int)Status})";
    }

    /// <summary>The detail alone, for messages that name the status elsewhere.</summary>
    public string Explanation => FirstNonEmpty(Detail, Title, ReasonPhrase) ?? $"HTTP {(int)Status}";

    /// <summary>Reads a non-success response. Bodies that are not JSON objects yield only status and reason.</summary>
    public static async Task<ProblemInfo> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? type = null, title = null, detail = null;
        if (IsJson(response.Content.Headers.ContentType))
        {
            try
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (bytes.Length is > 0 and <= MaxBodyBytes)
                {
                    using var document = JsonDocument.Parse(bytes);
                    if (document.RootElement.ValueKind == JsonValueKind.Object)
                    {
                        type = GetString(document.RootElement, "type");
                        title = GetString(document.RootElement, "title");
                        detail = GetString(document.RootElement, "detail");
                    }
                }
            }
            catch (JsonException)
            {
            }
            catch (HttpRequestException)
            {
            }
        }

        return new ProblemInfo(response.StatusCode, type, title, detail, response.ReasonPhrase);
    }

    private static bool IsJson(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { } media
        && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static string? GetString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? OneLine(value.GetString()) : null;

    private static string? OneLine(string? text) =>
        text is null ? null : string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}

/// <summary>A non-success answer from the control plane.</summary>
internal sealed class ControlPlaneException : Exception
{
    public ControlPlaneException()
        : this(new ProblemInfo(HttpStatusCode.InternalServerError, null, null, null, null))
    {
    }

    public ControlPlaneException(string message)
        : this(new ProblemInfo(HttpStatusCode.InternalServerError, null, null, message, null))
    {
    }

    public ControlPlaneException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = new ProblemInfo(HttpStatusCode.InternalServerError, null, null, message, null);
    }

    public ControlPlaneException(ProblemInfo problem)
        : base(problem.Describe())
    {
        Problem = problem;
    }

    public ProblemInfo Problem { get; }
}
