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

        using (var people = await agentA.GetAsync("/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, people.StatusCode);
        }

        using (var bundle = await agentA.GetAsync($"/api/v1/servers/{b.Id}/setup-bundle"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bundle.StatusCode);
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

    private static void AssertNothingEnrolled(string stateDir) =>
        Assert.False(File.Exists(Path.Combine(stateDir, "cert.pem")) || File.Exists(Path.Combine(stateDir, "key.pem")), "a refused enrolment left files in " + stateDir);
}
