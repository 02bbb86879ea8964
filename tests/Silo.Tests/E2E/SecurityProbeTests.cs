using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// What a security probe of a running silo found, kept as regression tests: each listener serves its own audience,
/// enrolment checks its token and the server id before anything reaches the CA, monitoring windows are bounded.
/// </summary>
public sealed class SecurityProbeTests() : SiloTestBase("secprobe")
{
    private HttpClient AgentSide() =>
        new(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{Silo.AgentPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    [Fact]
    public async Task The_agent_listener_serves_agent_endpoints_only_and_the_people_listener_no_agent_endpoint()
    {
        var server = await Silo.CreateServerAsync("audience");
        using var agentSide = AgentSide();
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + SiloProcess.AdminPassword)));
        var bearer = new AuthenticationHeaderValue("Bearer", Silo.Token);
        var people = new (HttpMethod Method, string Path, AuthenticationHeaderValue? Auth)[]
        {
            (HttpMethod.Post, "api/v1/tokens", basic),
            (HttpMethod.Get, "api/v1/servers", bearer),
            (HttpMethod.Get, $"api/v1/servers/{server.Id}/setup-bundle", bearer),
            (HttpMethod.Get, "dashboard/", basic),
            (HttpMethod.Get, "api/docs", null),
            (HttpMethod.Get, "api/v1/openapi.json", null),
            (HttpMethod.Get, "metrics", null),
            (HttpMethod.Get, "healthz", null),
        };
        foreach (var (method, path, auth) in people)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? JsonContent.Create(new { name = "probe" }) : null };
            request.Headers.Authorization = auth;
            using var response = await agentSide.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} on the agent listener: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // The same requests on the people listener answer (the setup bundle made a token we do not use).
        using (var tokens = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.OK, tokens.StatusCode);
        }

        // Agent endpoints asked on the people listener: 421 naming the agent listener, before any credential check.
        foreach (var path in new[] { AgentApi.Enroll, AgentApi.Heartbeat, AgentApi.Metrics, AgentApi.DnsMetrics })
        {
            using var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/{path}", JsonContent.Create(new { }));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 421, $"POST {path} on the people listener: {(int)response.StatusCode} {text}");
            Assert.Contains("--AgentUrls", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(",")]
    [InlineData("\"")]
    [InlineData("x;y")]
    [InlineData("srv-0123")]
    [InlineData("CN=evil, O=x")]
    public async Task Enrolment_with_a_malformed_server_id_is_400_naming_it(string serverId)
    {
        using var agentSide = AgentSide();
        using var response = await agentSide.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest(serverId, "mse_whatever", "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----", "t", "h", "Debian"), ContractsJson.WireOptions);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty("server_id", out _), text);
    }

    [Fact]
    public async Task Enrolment_checks_the_token_before_the_csr()
    {
        var server = await Silo.CreateServerAsync("token-first");
        using var agentSide = AgentSide();

        // A bad token with a garbage CSR: refused for the token (401), not for the CSR — the CSR was never looked at.
        using var response = await agentSide.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest(server.Id, "mse_not-the-token", "not a csr", "t", "h", "Debian"), ContractsJson.WireOptions);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, text);
        Assert.DoesNotContain("csr_pem", text, StringComparison.Ordinal);

        // A well-formed id of no server: refused, not a 5xx.
        using var unknown = await agentSide.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest("srv-00000000deadbeef", "mse_x", "not a csr", "t", "h", "Debian"), ContractsJson.WireOptions);
        Assert.True((int)unknown.StatusCode is >= 400 and < 500, await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Monitoring_reads_bound_their_window()
    {
        var server = await Silo.CreateServerAsync("window");
        foreach (var route in new[] { "monitoring/system/raw", "monitoring/system/aggregate", "monitoring/dns/raw", "monitoring/dns/aggregate", "monitoring/dns/rps", "monitoring/dns/top" })
        {
            foreach (var (query, field) in new[] { ("to=0001-01-01T00:00:00Z", "to"), ("from=0001-01-01T00:00:00Z", "from"), ("to=9999-12-31T23:59:59Z", "to") })
            {
                using var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/{route}?server={server.Id}&{query}");
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route}?{query}: {(int)response.StatusCode} {text}");
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{route}?{query}: {text}");
            }
        }
    }

    /// <summary>A huge one-token input: the error quotes an excerpt, the body and the log stay small.</summary>
    [Fact]
    public async Task Errors_about_huge_input_quote_an_excerpt()
    {
        var logBefore = Silo.Output.Length;
        var token = new string('q', 20 * 1024 * 1024);
        var cases = new (HttpMethod Method, string Path, string Json)[]
        {
            (HttpMethod.Post, "/api/v1/zones", JsonSerializer.Serialize(new { name = "huge.test", zone_file = "$ORIGIN huge.test.\n@ 3600 IN SOA ns1 h 1 2 3 4 5\n" + token + "\n" })),
            (HttpMethod.Post, "/api/v1/zones", JsonSerializer.Serialize(new { name = "huge2.test", zone_file = "$ORIGIN huge2.test.\n@ 3600 IN " + token + " x\n" })),
            (HttpMethod.Post, "/api/v1/zones", JsonSerializer.Serialize(new { name = token[..(1024 * 1024)], zone_file = "x" })),
            (HttpMethod.Post, "/api/v1/servers", JsonSerializer.Serialize(new { name = token[..(1024 * 1024)], kind = "dns", address = "127.0.0.1" })),
            (HttpMethod.Put, "/api/v1/settings/rabbitmq", JsonSerializer.Serialize(new { host = token[..(1024 * 1024)] })),
        };
        foreach (var (method, path, json) in cases)
        {
            using var request = new HttpRequestMessage(method, Silo.BaseUrl + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            using var response = await Silo.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var head = text[..Math.Min(text.Length, 600)];
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {path}: {(int)response.StatusCode} {head}");
            Assert.True(text.Length < 8 * 1024, $"{method} {path}: an error body of {text.Length:N0} characters: {head}");
        }

        await Task.Delay(500);
        Assert.True(Silo.Output.Length - logBefore < 64 * 1024, $"the silo logged {Silo.Output.Length - logBefore:N0} characters");
    }

    /// <summary>
    /// Clients that cannot complete a TLS handshake (a PSK-only ClientHello, plain-text garbage, a connection cut mid
    /// hello) are refused without an error or a stack trace in the silo's log; a real client still gets through after.
    /// </summary>
    [Fact]
    public async Task Failed_tls_handshakes_leave_no_error_in_the_log()
    {
        var before = Silo.Output.Length;
        var hello = new List<byte> { 0x03, 0x03 };
        hello.AddRange(new byte[32]);                             // random
        hello.AddRange(new byte[] { 0x00, 0x00, 0x02, 0x00, 0x8C }); // no session id; one suite: TLS_PSK_WITH_AES_128_CBC_SHA
        hello.AddRange(new byte[] { 0x01, 0x00, 0x00, 0x00 });       // null compression; no extensions
        var handshake = new List<byte> { 0x01, 0x00, (byte)(hello.Count >> 8), (byte)hello.Count };
        handshake.AddRange(hello);
        var record = new List<byte> { 0x16, 0x03, 0x01, (byte)(handshake.Count >> 8), (byte)handshake.Count };
        record.AddRange(handshake);
        foreach (var bytes in new[] { record.ToArray(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), record.ToArray()[..20] })
        {
            for (var i = 0; i < 3; i++)
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, Silo.AgentPort);
                var stream = tcp.GetStream();
                await stream.WriteAsync(bytes);
                var buffer = new byte[512];
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    _ = await stream.ReadAsync(buffer, timeout.Token);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                }
            }
        }

        using (var agentSide = AgentSide())
        using (var enroll = await agentSide.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest("bad", "t", "c", "t", "h", "Debian"), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.BadRequest, enroll.StatusCode);
        }

        await Task.Delay(500);
        var logged = Silo.Output[before..];
        Assert.DoesNotContain("Exception", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", logged, StringComparison.Ordinal);
    }
}
