using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>Bad input gets a clear error that says what and where, and changes nothing.</summary>
public sealed class BadInputTests() : SiloTestBase("bad")
{
    [Fact]
    public async Task Enrolment_refuses_expired_reused_and_forged_tokens_and_creates_nothing()
    {
        var server = await Silo.CreateServerAsync("bad-enrol");

        // Expired.
        var expired = await Silo.WriteBundleAsync(server.Id, Path.Combine(Dir, "expired"), expiresInSeconds: 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var (code, text) = await AgentProcess.EnrollAsync(expired, Path.Combine(Dir, "state-expired"));
        Assert.NotEqual(0, code);
        Assert.Contains("expired", text, StringComparison.OrdinalIgnoreCase);
        AssertNothingEnrolled(Path.Combine(Dir, "state-expired"));

        // Forged: a token this server never issued.
        var good = await Silo.WriteBundleAsync(server.Id, Path.Combine(Dir, "good"));
        var forged = Path.Combine(Dir, "forged.bundle.json");
        var json = JsonSerializer.Deserialize(await File.ReadAllTextAsync(good), ContractsJson.Default.SetupBundle)!;
        await File.WriteAllTextAsync(forged, JsonSerializer.Serialize(json with { EnrollmentToken = "forged-" + Guid.NewGuid().ToString("N") }, ContractsJson.Default.SetupBundle));
        (code, text) = await AgentProcess.EnrollAsync(forged, Path.Combine(Dir, "state-forged"));
        Assert.NotEqual(0, code);
        Assert.Contains("not valid", text, StringComparison.OrdinalIgnoreCase);
        AssertNothingEnrolled(Path.Combine(Dir, "state-forged"));

        var still = await Silo.GetServerAsync(server.Id);
        Assert.Equal("pending", still!.State);
        Assert.Null(still.CertificateNotAfter);

        // The good token works once; the same bundle again is refused.
        (code, text) = await AgentProcess.EnrollAsync(good, Path.Combine(Dir, "state-good"));
        Assert.True(code == 0, text);
        (code, text) = await AgentProcess.EnrollAsync(good, Path.Combine(Dir, "state-reused"));
        Assert.NotEqual(0, code);
        Assert.Contains("already used", text, StringComparison.OrdinalIgnoreCase);
        AssertNothingEnrolled(Path.Combine(Dir, "state-reused"));
    }

    [Fact]
    public async Task An_agent_cannot_act_for_another_server_or_as_a_person()
    {
        var a = await Silo.CreateServerAsync("conf-a");
        var b = await Silo.CreateServerAsync("conf-b");
        var stateA = Path.Combine(Dir, "conf-a");
        var (code, text) = await AgentProcess.EnrollAsync(await Silo.WriteBundleAsync(a.Id, Path.Combine(Dir, "conf")), stateA);
        Assert.True(code == 0, text);

        using var agentA = AgentTls.ClientFor(stateA, $"https://127.0.0.1:{Silo.AgentPort}");
        using (var own = await AgentTls.PostHeartbeatAsync(agentA, AgentTls.Beat(a.Id)))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using (var other = await AgentTls.PostHeartbeatAsync(agentA, AgentTls.Beat(b.Id)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
            Assert.Contains(b.Id, await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // People routes do not exist on the agent listener, certificate or not.
        using (var people = await agentA.GetAsync("/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.NotFound, people.StatusCode);
        }

        using (var bundle = await agentA.GetAsync($"/api/v1/servers/{b.Id}/setup-bundle"))
        {
            Assert.Equal(HttpStatusCode.NotFound, bundle.StatusCode);
        }

        // B never heard from anyone.
        Assert.Equal("pending", (await Silo.GetServerAsync(b.Id))!.State);
    }

    [Fact]
    public async Task Duplicate_name_is_409_and_malformed_json_is_400_naming_the_field()
    {
        await Silo.CreateServerAsync("dup-name");
        using (var dup = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers", new CreateServerRequest("DUP-NAME", "dns"), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
            Assert.Equal("application/problem+json", dup.Content.Headers.ContentType?.MediaType);
        }

        using (var malformed = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers", new StringContent("{\"name\": \"x\", \"kind\": 5}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
            using var doc = JsonDocument.Parse(await malformed.Content.ReadAsStringAsync());
            Assert.True(doc.RootElement.GetProperty("errors").TryGetProperty("kind", out _), doc.RootElement.ToString());
        }

        using (var broken = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers", new StringContent("{\"name\": \"x\",", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
            Assert.Equal("application/problem+json", broken.Content.Headers.ContentType?.MediaType);
        }

        using (var invalid = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/servers", new CreateServerRequest("", "dnsx", Runtime: "vm"), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            using var doc = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
            var errors = doc.RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty("name", out _));
            Assert.True(errors.TryGetProperty("kind", out _));
            Assert.True(errors.TryGetProperty("runtime", out _));
        }

        // Nothing was created by the refused requests.
        using var list = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers?q=x&per_page=500");
        var page = (await list.Content.ReadFromJsonAsync<PageOf<ServerView>>(ContractsJson.WireOptions))!;
        Assert.DoesNotContain(page.Items, s => s.Name is "x" or "");
        using var unauthenticated = new HttpClient();
        using var anon = await unauthenticated.GetAsync($"{Silo.BaseUrl}/api/v1/servers");
        Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
    }

    [Fact]
    public async Task Renewal_needs_the_current_certificate_and_the_new_one_works()
    {
        var server = await Silo.CreateServerAsync("renew-me");
        var state = Path.Combine(Dir, "renew-me");
        var (code, text) = await AgentProcess.EnrollAsync(await Silo.WriteBundleAsync(server.Id, Path.Combine(Dir, "renew")), state);
        Assert.True(code == 0, text);
        var agentUrl = $"https://127.0.0.1:{Silo.AgentPort}";

        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={server.Id}", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequestPem();

        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(state, "ca.pem")));
        using (var anonymous = new HttpClient(Contracts.Security.CaChain.PinnedHandler(ca)) { BaseAddress = new Uri(agentUrl) })
        using (var refused = await anonymous.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(csr), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        CertificateResponse renewed;
        using (var agent = AgentTls.ClientFor(state, agentUrl))
        using (var response = await agent.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(csr), ContractsJson.WireOptions))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            renewed = (await response.Content.ReadFromJsonAsync<CertificateResponse>(ContractsJson.WireOptions))!;
        }

        var old = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(state, "cert.pem")));
        var fresh = Contracts.Security.CaChain.WithKey(renewed.CertificatePem, key.ExportPkcs8PrivateKeyPem());
        Assert.NotEqual(old.SerialNumber, fresh.SerialNumber);
        Assert.Equal($"CN={server.Id}, O=ManagedServers agents", fresh.Subject);
        Assert.InRange(renewed.NotAfter - DateTimeOffset.UtcNow, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7.01));

        using var renewedClient = new HttpClient(Contracts.Security.CaChain.PinnedHandler(ca, fresh)) { BaseAddress = new Uri(agentUrl) };
        using var beat = await AgentTls.PostHeartbeatAsync(renewedClient, AgentTls.Beat(server.Id));
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
    }

    [Fact]
    public async Task An_unknown_field_is_refused_by_name_on_people_endpoints_and_tolerated_from_agents()
    {
        var server = await Silo.CreateServerAsync("unknown-fields");
        var cases = new (HttpMethod Method, string Path, string Body, string Field, string Hint)[]
        {
            (HttpMethod.Post, "/api/v1/servers", """{"name":"typo","kind":"dns","comunication":"pull"}""", "comunication", "did you mean 'communication'?"),
            (HttpMethod.Patch, $"/api/v1/servers/{server.Id}", """{"os":"Debian 13","adress":"10.0.0.1"}""", "adress", "did you mean 'address'?"),
            (HttpMethod.Put, "/api/v1/settings/monitoring", """{"heartbeat_interval_seconds":10,"dns_intervall_seconds":30}""", "dns_intervall_seconds", "did you mean 'dns_interval_seconds'?"),
            (HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", """{"kind":"dns","listen":["127.0.0.1@5353"],"colour":"blue"}""", "colour", "the fields are "),
            (HttpMethod.Post, "/api/v1/zones", """{"name":"typo.test","zonefile":"x"}""", "zonefile", "did you mean 'zone_file'?"),
            (HttpMethod.Post, "/api/v1/tokens", """{"nmae":"typo"}""", "nmae", "did you mean 'name'?"),
        };
        foreach (var (method, path, body, field, hint) in cases)
        {
            using var request = new HttpRequestMessage(method, Silo.BaseUrl + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await Silo.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(text);
            var messages = problem.RootElement.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
            Assert.Contains(messages, m => m.StartsWith("unknown field", StringComparison.Ordinal) && m.Contains(hint, StringComparison.Ordinal));
            Assert.Contains(field, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Nothing changed.
        using (var list = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers?q=typo"))
        {
            Assert.Equal(0, (await list.Content.ReadFromJsonAsync<PageOf<ServerView>>(ContractsJson.WireOptions))!.Total);
        }

        Assert.Equal("Debian 12", (await Silo.GetServerAsync(server.Id))!.Os);
        Assert.Empty((await Silo.GetServerAsync(server.Id))!.Services ?? []);
        Assert.Equal(HttpStatusCode.NotFound, (await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/zones/typo.test")).StatusCode);
        var settings = await Silo.Http.GetFromJsonAsync<JsonElement>($"{Silo.BaseUrl}/api/v1/settings/monitoring");
        Assert.NotEqual(10, settings.GetProperty("heartbeat_interval_seconds").GetInt32());

        // An agent newer than its control plane may send fields this one does not know: its heartbeat is still taken.
        var state = Path.Combine(Dir, "unknown-fields");
        var (code, output) = await AgentProcess.EnrollAsync(await Silo.WriteBundleAsync(server.Id, Path.Combine(Dir, "unknown-bundle")), state);
        Assert.True(code == 0, output);
        using var agent = AgentTls.ClientFor(state, $"https://127.0.0.1:{Silo.AgentPort}");
        var beat = JsonSerializer.SerializeToNode(AgentTls.Beat(server.Id), ContractsJson.Default.Heartbeat)!.AsObject();
        beat["a_field_from_a_newer_agent"] = 1;
        using var posted = await agent.PostAsync(AgentApi.Heartbeat, new StringContent(beat.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(posted.StatusCode == HttpStatusCode.OK, await posted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415_saying_what_to_send()
    {
        using var form = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "form", ["kind"] = "dns" }));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Equal("application/problem+json", form.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await form.Content.ReadAsStringAsync());
        Assert.Equal("send application/json (with 'Content-Type: application/json'), not 'application/x-www-form-urlencoded'", problem.RootElement.GetProperty("detail").GetString());
        using var list = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers?q=form");
        Assert.Equal(0, (await list.Content.ReadFromJsonAsync<PageOf<ServerView>>(ContractsJson.WireOptions))!.Total);
    }

    private static void AssertNothingEnrolled(string stateDir) =>
        Assert.False(File.Exists(Path.Combine(stateDir, "cert.pem")) || File.Exists(Path.Combine(stateDir, "key.pem")), "a refused enrolment left files in " + stateDir);
}
