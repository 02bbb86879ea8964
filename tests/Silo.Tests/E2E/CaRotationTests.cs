using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// CA rotation through a real silo: a new CA signs renewals while the old one stays trusted and keeps serving the agent
/// listener; agents are handed both; finishing waits for every agent (or is forced), then only the new CA is trusted.
/// Both CAs' keys are sealed in storage, whichever the storage is.
/// </summary>
public abstract class CaRotationTests(IDictionary<string, string> storageArgs) : SiloTestBase("ca-rotation", storageArgs)
{
    /// <summary>Everything the storage holds, as text (Latin-1 of the bytes), to look for keys in clear.</summary>
    protected abstract Task<string> StoredBytesAsync();

    private string AgentUrl => $"https://127.0.0.1:{Silo.AgentPort}";

    [Fact]
    public async Task Rotation_moves_agents_to_a_new_ca_without_interrupting_them()
    {
        var renewing = await Silo.CreateServerAsync("rotates");
        var lagging = await Silo.CreateServerAsync("lags");
        var renewingState = await EnrolAsync(renewing.Id, "rotates-state");
        var laggingState = await EnrolAsync(lagging.Id, "lags-state");
        using var oldCa = AgentTls.Ca(renewingState);
        using var oldCert = AgentTls.Certificate(renewingState);
        using var laggingCert = AgentTls.Certificate(laggingState);

        var before = await CaAsync();
        Assert.Null(before.Previous);
        Assert.Equal(2, before.ServersOnCurrent);

        // Finishing with no rotation under way is a conflict; a viewer-free admin call starts one.
        using (var none = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/ca/rotate/finish", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);
        }

        var rotating = await PostCaAsync("api/v1/ca/rotate");
        Assert.Equal(before.Current.Sha256Fingerprint, rotating.Previous!.Sha256Fingerprint);
        Assert.NotEqual(before.Current.Sha256Fingerprint, rotating.Current.Sha256Fingerprint);
        Assert.Equal(2, rotating.ServersOnPrevious);
        Assert.Contains("lags", rotating.NotRenewed);

        // During the rotation: agents with old certificates keep working, the listener still shows the old CA.
        Assert.Equal(HttpStatusCode.OK, await BeatAsync([oldCa], oldCert, renewing.Id));
        Assert.Equal(HttpStatusCode.OK, await BeatAsync([oldCa], laggingCert, lagging.Id));

        // A renewal is signed by the new CA and hands out both CAs.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateResponse renewed;
        using (var http = new HttpClient(CaChain.PinnedHandler(oldCa, oldCert)) { BaseAddress = new Uri(AgentUrl) })
        using (var response = await http.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(AgentCertificateTests.Csr(renewing.Id, key)), ContractsJson.WireOptions))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            renewed = (await response.Content.ReadFromJsonAsync<CertificateResponse>(ContractsJson.WireOptions))!;
        }

        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPem(renewed.CaCertificatePem);
        Assert.Equal(2, bundle.Count);
        using var newCa = X509Certificate2.CreateFromPem(rotating.Current.CertificatePem);
        using var newCert = CaChain.WithKey(renewed.CertificatePem, key.ExportPkcs8PrivateKeyPem());
        Assert.Equal(newCa.Subject, newCert.Issuer);
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(bundle, newCert, renewing.Id));

        var status = await CaAsync();
        Assert.Equal(1, status.ServersOnCurrent);
        Assert.Equal(1, status.ServersOnPrevious);
        Assert.Equal(["lags"], status.NotRenewed);

        // Finishing while an agent holds an old certificate is refused, naming it; with force it goes through.
        using (var early = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/ca/rotate/finish", null))
        {
            var text = await early.Content.ReadAsStringAsync();
            Assert.True(early.StatusCode == HttpStatusCode.Conflict, text);
            Assert.Contains("lags", text, StringComparison.Ordinal);
            Assert.Contains("force=true", text, StringComparison.Ordinal);
        }

        var (code, output) = await Msctl.RunAsync(Silo, Dir, true, "ca", "rotate", "--finish", "--force");
        Assert.True(code == 0, output);
        Assert.Contains("must enrol again", output, StringComparison.Ordinal);

        // After: the listener shows the new CA, the renewed agent works, the old CA's certificates are refused.
        Assert.Equal(HttpStatusCode.OK, await BeatAsync([newCa], newCert, renewing.Id));
        Assert.Equal(newCa.Subject, await ListenerIssuerAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => BeatAsync([oldCa], laggingCert, lagging.Id)); // old trust only: the listener is no longer trusted
        var refused = await BeatOrRefusalAsync(bundle, laggingCert, lagging.Id);
        Assert.NotEqual(HttpStatusCode.OK, refused);

        (code, output) = await Msctl.RunAsync(Silo, Dir, true, "ca", "show");
        Assert.True(code == 0, output);
        Assert.Contains("no rotation under way", output, StringComparison.Ordinal);

        // Two CAs were made and stored: neither key is in clear in the storage.
        var stored = await StoredBytesAsync();
        Assert.Contains("BEGIN CERTIFICATE", stored, StringComparison.Ordinal); // the scan sees PEM text: the certificates are stored as such
        Assert.DoesNotContain("PRIVATE KEY", stored, StringComparison.Ordinal);
    }


    private async Task<CaView> CaAsync()
    {
        using var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/ca");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CaView>(ContractsJson.WireOptions))!;
    }

    private async Task<CaView> PostCaAsync(string path)
    {
        using var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/{path}", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CaView>(ContractsJson.WireOptions))!;
    }

    /// <summary>A heartbeat presenting <paramref name="client"/>, trusting only <paramref name="trusted"/> for the listener.</summary>
    private async Task<HttpStatusCode> BeatAsync(X509Certificate2Collection trusted, X509Certificate2 client, string serverId)
    {
        using var http = new HttpClient(CaChain.PinnedHandler(trusted, client)) { BaseAddress = new Uri(AgentUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await AgentTls.PostHeartbeatAsync(http, AgentTls.Beat(serverId));
        return response.StatusCode;
    }

    private async Task<HttpStatusCode?> BeatOrRefusalAsync(X509Certificate2Collection trusted, X509Certificate2 client, string serverId)
    {
        try
        {
            return await BeatAsync(trusted, client, serverId);
        }
        catch (HttpRequestException)
        {
            return null; // the TLS layer refused the client certificate
        }
    }

    private async Task<string> ListenerIssuerAsync()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Silo.AgentPort);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) => certificate is not null); // only its issuer is read
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        return tls.RemoteCertificate!.Issuer;
    }
}

/// <summary>The embedded default: SQLite.</summary>
public sealed class SqliteCaRotationTests() : CaRotationTests(new Dictionary<string, string>())
{
    protected override Task<string> StoredBytesAsync()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in Directory.EnumerateFiles(Silo.DataDir).Where(f => Path.GetFileName(f).StartsWith("managedservers.db", StringComparison.Ordinal)))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            text.Append(System.Text.Encoding.Latin1.GetString(buffer.ToArray()));
        }

        return Task.FromResult(text.ToString());
    }
}

/// <summary>Cluster mode: PostgreSQL grain storage.</summary>
public sealed class PostgresCaRotationTests : CaRotationTests
{
    private readonly string _database;

    public PostgresCaRotationTests()
        : this(TestPostgres.NewDatabaseName("ms_ca_"))
    {
    }

    private PostgresCaRotationTests(string database)
        : base(TestPostgres.SiloArgs(database))
    {
        _database = database;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await TestPostgres.DropAsync(_database);
    }

    protected override async Task<string> StoredBytesAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestPostgres.ConnectionString(_database));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT payloadbinary FROM orleansstorage WHERE payloadbinary IS NOT NULL", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var text = new System.Text.StringBuilder();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            text.Append(System.Text.Encoding.Latin1.GetString((byte[])reader[0]));
            rows++;
        }

        Assert.True(rows > 0, "no grain state in PostgreSQL");
        return text.ToString();
    }
}
