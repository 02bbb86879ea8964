using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// One current agent certificate per server, through a real silo and a real enrolled agent's state: a copy of the
/// certificate stops working once the real agent renews or enrols again, raising a "possible cloned agent" event; an
/// admin revokes a certificate without deleting the server; a certificate from another CA is refused.
/// </summary>
public sealed class AgentCertificateTests() : SiloTestBase("agent-certs")
{
    private string AgentUrl => $"https://127.0.0.1:{Silo.AgentPort}";

    [Fact]
    public async Task A_copied_certificate_is_refused_after_renewal_and_re_enrolment_and_shows_as_an_event()
    {
        var server = await Silo.CreateServerAsync("cloned");
        var state = await EnrolAsync(server.Id, "cloned-state");
        using var ca = AgentTls.Ca(state);
        using var original = AgentTls.Certificate(state);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, original, server.Id));

        // The real agent renews and uses its new certificate: the copy (the enrolment certificate) is superseded.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var renewed = await RenewAsync(ca, original, server.Id, key);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, renewed, server.Id));

        // The copy tries to renew itself: refused, since only the current certificate renews, and that is an event.
        using (var clone = new HttpClient(CaChain.PinnedHandler(ca, original)) { BaseAddress = new Uri(AgentUrl) })
        using (var response = await clone.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(Csr(server.Id, key)), ContractsJson.WireOptions))
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, text);
            Assert.Contains("not this server's current certificate", text, StringComparison.Ordinal);
        }

        Assert.Contains(await EventsAsync(server.Id), e => e.Kind == "certificate.refused");

        // The real agent enrols again: every earlier certificate stops at once, the renewed one included.
        using var enrolKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var reEnrolled = await EnrolAgainAsync(ca, server.Id, enrolKey);
        Assert.Equal(HttpStatusCode.Forbidden, await BeatAsync(ca, renewed, server.Id));
        Assert.Equal(HttpStatusCode.Forbidden, await BeatAsync(ca, original, server.Id));
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, reEnrolled, server.Id));

        var events = await EventsAsync(server.Id);
        Assert.Contains(events, e => e.Kind == "certificate.refused" && e.Message.Contains("possible cloned agent", StringComparison.Ordinal) && e.Severity == "warning");
        Assert.Equal(2, events.Count(e => e.Kind == "agent.enrolled"));
        Assert.True(events[0].At >= events[^1].At, "newest first");
        Assert.Contains(events, e => e.Kind == "certificate.renewed");

        // The refusal names the reason for the agent's log, and the silo log says the same.
        using (var client = new HttpClient(CaChain.PinnedHandler(ca, renewed)) { BaseAddress = new Uri(AgentUrl) })
        using (var response = await AgentTls.PostHeartbeatAsync(client, AgentTls.Beat(server.Id)))
        {
            Assert.Contains("no longer speaks for server", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains("possible cloned agent", Silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_revokes_a_certificate_without_deleting_the_server()
    {
        var server = await Silo.CreateServerAsync("revoked");
        var state = await EnrolAsync(server.Id, "revoked-state");
        using var ca = AgentTls.Ca(state);
        using var certificate = AgentTls.Certificate(state);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, certificate, server.Id));

        // Viewers may read events but not revoke; unknown servers are 404.
        using (var missing = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers/srv-0000000000000000/revoke-certificate", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/revoke-certificate", null))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var result = (await response.Content.ReadFromJsonAsync<CertificateRevocationView>(ContractsJson.WireOptions))!;
            Assert.Equal(1, result.Revoked);
            Assert.Null(result.BrokerUserRemoved); // a push server has no broker user
        }

        Assert.Equal(HttpStatusCode.Forbidden, await BeatAsync(ca, certificate, server.Id));
        Assert.NotNull(await Silo.GetServerAsync(server.Id)); // the server stays
        Assert.Contains(await EventsAsync(server.Id), e => e.Kind == "certificate.revoked" && e.Message.Contains("by admin", StringComparison.Ordinal));

        // A new setup bundle brings it back.
        var again = await EnrolAsync(server.Id, "revoked-again");
        using var fresh = AgentTls.Certificate(again);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, fresh, server.Id));

        // msctl, as an operator runs it: events as a table, revoke-cert needs --yes without a terminal.
        var (code, text) = await Msctl.RunAsync(Silo, Dir, true, "servers", "events", "revoked");
        Assert.True(code == 0, text);
        Assert.Contains("certificate.revoked", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "servers", "revoke-cert", "revoked");
        Assert.NotEqual(0, code);
        Assert.Contains("--yes", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(ca, fresh, server.Id)); // nothing revoked
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "servers", "revoke-cert", "revoked", "--yes");
        Assert.True(code == 0, text);
        Assert.Contains("1 certificate(s) revoked", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await BeatAsync(ca, fresh, server.Id));
    }

    [Fact]
    public async Task A_certificate_from_another_ca_for_a_real_server_id_is_refused()
    {
        var server = await Silo.CreateServerAsync("foreign");
        var state = await EnrolAsync(server.Id, "foreign-state");
        using var ourCa = AgentTls.Ca(state);

        // Same subject as ours, same server id, another key: what someone without our CA key can make.
        using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var caRequest = new CertificateRequest(ourCa.Subject, foreignKey, HashAlgorithmName.SHA384);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var foreignCa = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest($"CN={server.Id}, O=ManagedServers agents", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ClientAuthOid)], false));
        using var leaf = leafRequest.Create(foreignCa, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3, 4]);
        using var forged = CaChain.WithKey(leaf.ExportCertificatePem(), leafKey.ExportPkcs8PrivateKeyPem());

        // The TLS layer refuses it (no answer at all), or the endpoint does (401): never a 2xx.
        HttpStatusCode? status = null;
        try
        {
            status = await BeatAsync(ourCa, forged, server.Id);
        }
        catch (HttpRequestException)
        {
        }

        Assert.True(status is null or HttpStatusCode.Unauthorized, $"a foreign certificate got {status}");
        Assert.DoesNotContain(await EventsAsync(server.Id), e => e.Kind == "certificate.refused"); // not ours: not a clone of ours
    }

    private async Task<HttpStatusCode> BeatAsync(X509Certificate2 ca, X509Certificate2 client, string serverId)
    {
        using var http = new HttpClient(CaChain.PinnedHandler(ca, client)) { BaseAddress = new Uri(AgentUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await AgentTls.PostHeartbeatAsync(http, AgentTls.Beat(serverId));
        return response.StatusCode;
    }

    private async Task<X509Certificate2> RenewAsync(X509Certificate2 ca, X509Certificate2 current, string serverId, ECDsa key)
    {
        using var http = new HttpClient(CaChain.PinnedHandler(ca, current)) { BaseAddress = new Uri(AgentUrl) };
        using var response = await http.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(Csr(serverId, key)), ContractsJson.WireOptions);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var answer = (await response.Content.ReadFromJsonAsync<CertificateResponse>(ContractsJson.WireOptions))!;
        return CaChain.WithKey(answer.CertificatePem, key.ExportPkcs8PrivateKeyPem());
    }

    private async Task<X509Certificate2> EnrolAgainAsync(X509Certificate2 ca, string serverId, ECDsa key)
    {
        var bundle = System.Text.Json.JsonSerializer.Deserialize<SetupBundle>(
            await File.ReadAllBytesAsync(await Silo.WriteBundleAsync(serverId, Path.Combine(Dir, "again"))), ContractsJson.WireOptions)!;
        using var http = new HttpClient(CaChain.PinnedHandler(ca)) { BaseAddress = new Uri(AgentUrl) };
        using var response = await http.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest(serverId, bundle.EnrollmentToken, Csr(serverId, key), "test", "probe", "Debian"), ContractsJson.WireOptions);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var answer = (await response.Content.ReadFromJsonAsync<CertificateResponse>(ContractsJson.WireOptions))!;
        return CaChain.WithKey(answer.CertificatePem, key.ExportPkcs8PrivateKeyPem());
    }

    private async Task<ServerEventView[]> EventsAsync(string serverId)
    {
        using var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{serverId}/events");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ServerEventView[]>(ContractsJson.WireOptions))!;
    }

    internal static string Csr(string serverId, ECDsa key) =>
        new CertificateRequest($"CN={serverId}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
}
