using System.Net;
using System.Text;
using System.Text.Json;
using ManagedServers.Silo.Tests.E2E;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.InProcess;

/// <summary>
/// Every route of the OpenAPI document (a silo host in the test process, on each storage mode), as an admin, with extreme values in each path and query parameter and odd
/// bodies: no answer is a 5xx. Then every route without a token and with garbage, unknown, revoked and wrong-Basic
/// credentials: never a 2xx (but the anonymous ones), never a 5xx.
/// </summary>
public abstract class RouteWalkTests<THost>(THost host, ITestOutputHelper output) : IClassFixture<THost>
    where THost : ApiHost
{
    private ISiloApi Silo => host;

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
        System.Text.RegularExpressions.Regex.Replace(path, @"\{([^}:]+)(:[^}]*)?\}", m =>
            m.Groups[1].Value is "version" or "subnetId" && !long.TryParse(value, out _) ? "1" : Uri.EscapeDataString(value)); // numeric route constraints

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
        using var client = Silo.NewClient();
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

    /// <summary>Tokens a mutation inserts: zone-file syntax at its edges.</summary>
    private static readonly string[] ZoneTokens =
    [
        "$ORIGIN", "$TTL", "$INCLUDE /etc/passwd", "$GENERATE 1-9 x$ A 10.0.0.$", "(", ")", "\"", ";", "\\# 4 0a000001", "\\# 99999 00",
        "\\000", "\\999", "@", "*", ".", "..", "IN", "CH", "TYPE65535", "CLASS1", "3600000000000", "-1", "SOA", "NS", "CNAME", "DNAME", "SVCB",
        "TXT", "\r\n", "\t", " ", "\n", new string('a', 64), new string('b', 300), "xn--", "😀", "\u0000", "0/25", "ns.example.test.",
    ];

    [Fact]
    public async Task Mutated_zone_files_never_get_a_5xx_and_a_refused_one_changes_nothing()
    {
        const int Cases = 3000;
        var seed = 20261203;
        var random = new Random(seed);
        var valid = string.Join('\n',
            "$ORIGIN fuzz.test.",
            "$TTL 300",
            "@ IN SOA ns1.fuzz.test. hostmaster.fuzz.test. ( 1 3600 600 86400 300 )",
            "@ IN NS ns1.fuzz.test.",
            "ns1 IN A 192.0.2.1",
            "www 60 IN AAAA 2001:db8::1",
            "mail IN MX 10 ns1.fuzz.test.",
            "txt IN TXT \"v=spf1 -all\" \"second string\"",
            "_sip._tcp IN SRV 10 5 5060 ns1.fuzz.test.",
            "alias IN CNAME www.fuzz.test.",
            "svc IN HTTPS 1 . alpn=h2,h3 port=443",
            "caa IN CAA 0 issue \"ca.example\"",
            "*.wild IN A 192.0.2.9",
            string.Empty);
        using (var created = await Silo.Http.PostAsync(
            $"{Silo.BaseUrl}/api/v1/zones",
            new StringContent(JsonSerializer.Serialize(new { name = "fuzz.test", zone_file = valid }), Encoding.UTF8, "application/json")))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        var baseline = await ZoneShaAsync();
        int accepted = 0, refused = 0;
        for (var i = 0; i < Cases; i++)
        {
            var mutated = Mutate(valid, random);
            using var response = await PutZoneAsync(mutated);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"case {i} (seed {seed}): {(int)response.StatusCode} {text}\n--- input ---\n{mutated}");
            Assert.True(text.Length < 8_000, $"case {i}: a {text.Length}-character answer");
            if (response.IsSuccessStatusCode)
            {
                accepted++;
                using var restore = await PutZoneAsync(valid); // back to the baseline for the next case
                Assert.True(restore.IsSuccessStatusCode, await restore.Content.ReadAsStringAsync());
                baseline = await ZoneShaAsync();
            }
            else
            {
                refused++;
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal(baseline, await ZoneShaAsync()); // a refused import changes nothing
            }
        }

        output.WriteLine($"zone import fuzz: {Cases} mutated files (seed {seed}): {accepted} accepted, {refused} refused with 400, no 5xx");
        Assert.True(refused > Cases / 4 && accepted > 0, $"the mutations were not varied enough: {accepted} accepted, {refused} refused");
    }

    private Task<HttpResponseMessage> PutZoneAsync(string text) =>
        Silo.Http.PutAsync(
            $"{Silo.BaseUrl}/api/v1/zones/fuzz.test/file",
            new StringContent(JsonSerializer.Serialize(new { zone_file = text }), Encoding.UTF8, "application/json"));

    private async Task<string> ZoneShaAsync()
    {
        using var document = JsonDocument.Parse(await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/zones/fuzz.test"));
        return document.RootElement.GetProperty("sha256").GetString()!;
    }

    /// <summary>One to four edits: a character changed, a run deleted, a run repeated, a token inserted, a line swapped.</summary>
    private static string Mutate(string text, Random random)
    {
        var builder = new StringBuilder(text);
        for (var edits = random.Next(1, 5); edits > 0 && builder.Length > 0; edits--)
        {
            var at = random.Next(builder.Length);
            switch (random.Next(5))
            {
                case 0:
                    builder[at] = (char)random.Next(1, 128);
                    break;
                case 1:
                    builder.Remove(at, Math.Min(random.Next(1, 20), builder.Length - at));
                    break;
                case 2:
                    var run = builder.ToString(at, Math.Min(random.Next(1, 40), builder.Length - at));
                    builder.Insert(at, run);
                    break;
                case 3:
                    builder.Insert(at, " " + ZoneTokens[random.Next(ZoneTokens.Length)] + " ");
                    break;
                default:
                    var lines = builder.ToString().Split('\n');
                    var a = random.Next(lines.Length);
                    var b = random.Next(lines.Length);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    builder.Clear().Append(string.Join('\n', lines));
                    break;
            }
        }

        return builder.ToString();
    }
}

public sealed class SqliteRouteWalkTests(SqliteApiHost host, ITestOutputHelper output) : RouteWalkTests<SqliteApiHost>(host, output);

public sealed class PostgresRouteWalkTests(PostgresApiHost host, ITestOutputHelper output) : RouteWalkTests<PostgresApiHost>(host, output);
