using System.Text.Json;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Zones;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ManagedServers.Api.Infrastructure;

/// <summary>Problem types (RFC 9457 "type" URIs) the API and agents rely on.</summary>
public static class ProblemTypes
{
    private const string Base = "https://managedservers.dev/problems/";
    public const string Validation = Base + "validation";
    public const string NotFound = Base + "not-found";
    public const string Conflict = Base + "conflict";
    public const string Enrollment = Base + "enrollment-refused";
    public const string AgentRevoked = Contracts.Agent.AgentApi.RevokedProblemType;
    public const string Forbidden = Base + "forbidden";
    public const string Unauthorized = Base + "unauthorized";
    public const string AgentOffline = Base + "agent-offline";
    public const string BrokerUnavailable = Base + "broker-unavailable";
}

/// <summary>Collects field errors; an empty collector means the input is valid.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    /// <summary>How many errors there are (a reader compares it before and after reading a part).</summary>
    public int Count => _errors.Values.Sum(l => l.Count);

    public void Add(string field, string message)
    {
        message = Contracts.Excerpt.Bound(message);
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    /// <summary>The list parameters every list takes: <c>page</c> (from 1) and <c>per_page</c> (1–500, default 20).</summary>
    public (int Page, int PerPage) Paging(int? page, int? perPage)
    {
        var pageNo = page ?? 1;
        var size = perPage ?? 20;
        if (pageNo < 1)
        {
            Add("page", "must be 1 or more");
        }

        if (size is < 1 or > 500)
        {
            Add("per_page", "must be between 1 and 500");
        }

        return (pageNo, size);
    }

    /// <summary>An optional enum filter by its wire name; a bad name is an error on <paramref name="field"/> listing the choices.</summary>
    public T? Filter<T>(string? text, string field)
        where T : struct, Enum
    {
        if (text is null)
        {
            return null;
        }

        if (ServerMapping.TryParse<T>(text, out var value))
        {
            return value;
        }

        Add(field, $"use one of {ServerMapping.Choices<T>()}");
        return null;
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    public ValidationProblem ToProblem(string title = "The request has invalid fields") =>
        TypedResults.ValidationProblem(ToDictionary(), title: title, type: ProblemTypes.Validation);
}

/// <summary>Maps domain exceptions and unreadable bodies to problem details, in one place.</summary>
public sealed partial class DomainExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var details = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => BadJson(json, httpContext),
            BadHttpRequestException bad => new ProblemDetails { Status = bad.StatusCode, Title = "Bad request", Detail = bad.Message, Type = ProblemTypes.Validation },
            _ => Describe(exception),
        };
        if (details is null)
        {
            return false;
        }

        httpContext.Response.StatusCode = details.Status ?? 400;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception });
    }

    /// <summary>The problem a domain exception is answered with (the API's body; the web UI shows the same messages), or null for any other exception.</summary>
    public static ProblemDetails? Describe(Exception exception)
    {
        return exception switch
        {
            NotFoundException nf => new ProblemDetails { Status = 404, Title = "Not found", Detail = nf.Message, Type = ProblemTypes.NotFound },
            ConflictException c => WithField(new ProblemDetails { Status = 409, Title = "Conflict", Detail = c.Message, Type = ProblemTypes.Conflict }, c.Field, c.Message),
            ZoneValidationException z => ZoneProblem(z),
            DhcpConfigException d => WithField(new ProblemDetails { Status = 400, Title = "The DHCP configuration is not valid", Detail = d.Message, Type = ProblemTypes.Validation }, d.Field ?? "body", d.Message),
            EnrollmentRefusedException e => new ProblemDetails { Status = 401, Title = "Enrolment refused", Detail = e.Message, Type = ProblemTypes.Enrollment },
            _ => null,
        };
    }

    /// <summary>Zone input refused: 400 whose errors name the field (zone_file: one "line N: …" message per error).</summary>
    private static HttpValidationProblemDetails ZoneProblem(ZoneValidationException z)
    {
        var errors = z.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray(), StringComparer.Ordinal);
        var problem = new HttpValidationProblemDetails(errors)
        {
            Status = 400,
            Title = z.Errors.Any(e => e.Line > 0) ? "The zone file is not valid" : "The request has invalid fields",
            Detail = z.Message + (z.Truncated ? $" (only the first {z.Errors.Length} errors are listed)" : string.Empty),
            Type = ProblemTypes.Validation,
        };
        if (z.Truncated)
        {
            problem.Extensions["truncated"] = true;
        }

        return problem;
    }

    private static HttpValidationProblemDetails BadJson(JsonException json, HttpContext httpContext)
    {
        if (UnknownMember().Match(json.Message) is { Success: true } unknown)
        {
            return UnknownField(json, unknown.Groups["name"].Value, unknown.Groups["type"].Value, httpContext);
        }

        var field = JsonPathToField(json.Path);
        var message = json.Message.Split(" Path:", 2)[0];
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            message = "has the wrong JSON type for this field";
        }
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = 400,
            Title = "The request body is not valid JSON for this endpoint",
            Detail = $"{field}: {message}" + (json.LineNumber is { } line ? $" (line {line + 1}, byte {json.BytePositionInLine})" : string.Empty),
            Type = ProblemTypes.Validation,
        };
    }

    /// <summary>
    /// A field the request type does not have (<see cref="System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow"/>):
    /// 400 naming it where it is, with the closest field the type has ("did you mean …?") or the fields it has.
    /// </summary>
    private static HttpValidationProblemDetails UnknownField(JsonException json, string name, string typeName, HttpContext httpContext)
    {
        var parent = JsonPathToField(json.Path);
        if (parent.EndsWith(name, StringComparison.Ordinal))
        {
            parent = parent[..^name.Length].TrimEnd('.');
        }

        var field = parent is "body" or "" ? name : $"{parent}.{name}";
        var known = KnownFields(httpContext, typeName);
        var closest = known.Select(k => (Name: k, Distance: EditDistance(name, k))).Where(k => k.Distance <= Math.Max(2, name.Length / 4)).OrderBy(k => k.Distance).FirstOrDefault().Name;
        var hint = closest is not null ? $"; did you mean '{closest}'?"
            : known.Count > 0 ? $"; the fields are {string.Join(", ", known)}"
            : string.Empty;
        var message = $"unknown field{hint}";
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = 400,
            Title = "The request has an unknown field",
            Detail = $"{field}: {message} (nothing was changed)",
            Type = ProblemTypes.Validation,
        };
    }

    /// <summary>The JSON names of the type named <paramref name="typeName"/>, found from the endpoint's body type down its properties.</summary>
    private static List<string> KnownFields(HttpContext httpContext, string typeName)
    {
        // The exception handler has cleared the request's endpoint; its feature keeps the one that failed.
        var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
        var root = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        var options = httpContext.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>()?.Value.SerializerOptions;
        if (root is null || options is null)
        {
            return [];
        }

        var seen = new HashSet<Type>();
        var queue = new Queue<Type>([root]);
        while (queue.TryDequeue(out var type) && seen.Count < 100)
        {
            if (!seen.Add(type) || !options.TryGetTypeInfo(type, out var info))
            {
                continue;
            }

            if (info.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
            {
                if (type.FullName == typeName)
                {
                    return [.. info.Properties.Where(p => p.Set is not null || p.AssociatedParameter is not null).Select(p => p.Name)];
                }

                foreach (var property in info.Properties)
                {
                    queue.Enqueue(property.PropertyType);
                }
            }
            else if (info.ElementType is { } element)
            {
                queue.Enqueue(element);
            }
        }

        return [];
    }

    /// <summary>Levenshtein distance, for "did you mean".</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^The JSON property '(?<name>.*)' could not be mapped to any \.NET member contained in type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex UnknownMember();

    /// <summary>"$.versions.dns" → "versions.dns"; "$" or none → "body".</summary>
    internal static string JsonPathToField(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static ProblemDetails WithField(ProblemDetails details, string? field, string message)
    {
        if (field is null)
        {
            return details;
        }

        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = details.Status,
            Title = details.Title,
            Detail = details.Detail,
            Type = details.Type,
        };
    }
}

/// <summary>Small helpers for problem results.</summary>
public static class Problem
{
    public static ProblemHttpResult Of(int status, string title, string detail, string type) =>
        TypedResults.Problem(detail: Contracts.Excerpt.Bound(detail), statusCode: status, title: title, type: type);

    public static ProblemHttpResult NotFound(string what) =>
        Of(404, "Not found", what, ProblemTypes.NotFound);

    public static ProblemHttpResult Forbidden(string detail) =>
        Of(403, "Forbidden", detail, ProblemTypes.Forbidden);
}

/// <summary>Names used by authorisation.</summary>
public static class AuthNames
{
    public const string BearerScheme = "Bearer";
    public const string BasicScheme = "Basic";
    public const string AgentScheme = "AgentCertificate";
    public const string TokenCreation = "token-creation";
    public const string Agent = "agent";
    public const string ServerIdClaim = "ms:server_id";

    private const string FailureKey = "ms:auth-failure";

    /// <summary>Why the credentials sent were refused (one sentence, the 401's detail), set by the scheme that refused them.</summary>
    public static void SetFailure(HttpContext context, string detail) => context.Items[FailureKey] = detail;

    /// <summary>The reason a scheme gave for refusing the request's credentials, or null when none were sent.</summary>
    public static string? FailureOf(HttpContext context) => context.Items.TryGetValue(FailureKey, out var detail) ? detail as string : null;

    public static ImmutableArray<string> PeopleGroups { get; } = [Groups.Admins, Groups.Viewers];
}
