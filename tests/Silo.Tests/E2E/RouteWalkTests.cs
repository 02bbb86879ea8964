using System.Net;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Every route of the OpenAPI document, as an admin, with extreme values in each path and query parameter and odd
/// bodies: no answer is a 5xx. Then every route without a token and with garbage, unknown, revoked and wrong-Basic
/// credentials: never a 2xx (but the anonymous ones), never a 5xx.
/// </summary>
public sealed class RouteWalkTests() : SiloTestBase("routewalk")
{
    private static readonly string[] Extremes =
    [
        "", "x", new string('a', 3000), "-1", "0", "2147483648", "99999999999999999999999", "1e309", "NaN",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not-a-date", "%00", "..%2F..", "' OR 1=1 --", "\"", ",", "x;y",
        "srv-0000000000000000", "@", ".", "%2F", "*", "😀",
    ];

    private static readonly string[] Bodies = ["{}", "[]", "null", "{\"name\":\"\"}", "{\"name\":" + JsonSerializer.Serialize(new string('n', 100_000)) + "}", "{\"x\":1}", "not json", "{\"port\":-1,\"ttl\":1e400}"];

    private async Task<List<(string Method, string Path, string[] Query)>> OperationsAsync()
    {
        using var document = JsonDocument.Parse(await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/openapi.json"));
        var operations = new List<(string, string, string[])>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var query = operation.Value.TryGetProperty("parameters", out var parameters)
                    ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToArray()
                    : [];
                operations.Add((operation.Name.ToUpperInvariant(), path.Name, query));
            }
        }

        Assert.True(operations.Count > 40, $"only {operations.Count} operations in the OpenAPI document");
        return operations;
    }

    private static string Fill(string path, string value) =>
        System.Text.RegularExpressions.Regex.Replace(path, @"\{([^}:]+)(:[^}]*)?\}", m => m.Groups[1].Value == "version" && !int.TryParse(value, out _) ? "1" : Uri.EscapeDataString(value));

    private async Task<(int Status, string Body)> SendAsync(HttpClient client, string method, string url, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 300 ? text[..300] : text);
    }

    [Fact]
    public async Task No_route_answers_5xx_to_extreme_parameters_or_odd_bodies()
    {
        var failures = new List<string>();
        var sent = 0;
        foreach (var (method, path, query) in await OperationsAsync())
        {
            if (path.EndsWith("/ca/rotate", StringComparison.Ordinal))
            {
                continue;
            }

            var hasBody = method is "POST" or "PUT" or "PATCH";
            foreach (var value in Extremes)
            {
                var urls = new List<string> { Silo.BaseUrl + Fill(path, value) };
                urls.AddRange(query.Select(q => $"{Silo.BaseUrl}{Fill(path, "srv-0000000000000000")}?{q}={Uri.EscapeDataString(value)}"));
                foreach (var url in urls)
                {
                    var (status, text) = await SendAsync(Silo.Http, method, url, hasBody ? "{}" : null);
                    sent++;
                    if (status >= 500)
                    {
                        failures.Add($"{method} {url[..Math.Min(url.Length, 160)]} → {status} {text}");
                    }
                }
            }

            if (hasBody)
            {
                foreach (var body in Bodies)
                {
                    var (status, text) = await SendAsync(Silo.Http, method, Silo.BaseUrl + Fill(path, "srv-0000000000000000"), body);
                    sent++;
                    if (status >= 500)
                    {
                        failures.Add($"{method} {path} body {body[..Math.Min(body.Length, 40)]} → {status} {text}");
                    }
                }
            }
        }

        Console.WriteLine($"route walk: {sent} requests, {failures.Count} answered 5xx");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)));
    }

    [Fact]
    public async Task No_route_answers_2xx_or_5xx_to_missing_garbage_unknown_revoked_or_wrong_basic_credentials()
    {
        // A token made and revoked.
        using var created = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/tokens", new StringContent("{\"name\":\"revoked\"}", Encoding.UTF8, "application/json"));
        using var token = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var revoked = token.RootElement.GetProperty("token").GetString()!;
        using (var revoke = await Silo.Http.DeleteAsync($"{Silo.BaseUrl}/api/v1/tokens/{token.RootElement.GetProperty("id").GetString()}"))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(6)); // the token cache's bound
        var credentials = new (string Name, string? Header)[]
        {
            ("none", null),
            ("garbage bearer", "Bearer garbage"),
            ("unknown token", "Bearer mst_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ("revoked token", "Bearer " + revoked),
            ("wrong basic", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:wrong"))),
        };
        var anonymous = new HashSet<string>(StringComparer.Ordinal) { "/api/v1/openapi.json" };
        var failures = new List<string>();
        using var client = new HttpClient();
        foreach (var (method, path, _) in await OperationsAsync())
        {
            if (path.StartsWith("/api/v1/agent", StringComparison.Ordinal) || path is "/api/v1/monitoring/metrics" or "/api/v1/monitoring/dns-metrics" || anonymous.Contains(path))
            {
                continue; // agent endpoints: 421 here (see SecurityProbeTests); anonymous by design
            }

            foreach (var (name, header) in credentials)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), Silo.BaseUrl + Fill(path, "srv-0000000000000000"));
                if (header is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", header);
                }

                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request);
                var status = (int)response.StatusCode;
                if (status is < 400 or >= 500 || (status != 401 && status != 421 && status != 429))
                {
                    failures.Add($"{method} {path} with {name} → {status}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)));
    }
}
