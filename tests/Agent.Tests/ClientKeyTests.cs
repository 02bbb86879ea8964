using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Security;

namespace ManagedServers.Agent.Tests;

public sealed class ClientKeyTests
{
    [Fact]
    public void Csr_has_server_id_as_common_name_and_an_ecdsa_p256_key()
    {
        using var key = ClientKey.Create();
        var pem = ClientKey.CreateCsrPem("srv-42", key);

        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----", pem, StringComparison.Ordinal);
        var request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256);
        Assert.Equal("CN=srv-42", request.SubjectName.Name);
        Assert.Equal("1.2.840.10045.2.1", request.PublicKey.Oid.Value); // id-ecPublicKey
        using var publicKey = request.PublicKey.GetECDsaPublicKey();
        Assert.NotNull(publicKey);
        Assert.Equal(256, publicKey.KeySize);
        Assert.Equal("1.2.840.10045.3.1.7", publicKey.ExportParameters(false).Curve.Oid.Value); // nistP256
        Assert.True(publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void Issued_certificate_must_carry_our_public_key()
    {
        using var ca = TestCa.Create();
        using var key = ClientKey.Create();
        using var other = ClientKey.Create();
        var now = DateTimeOffset.UtcNow;

        var pem = ca.SignClientCsr(ClientKey.CreateCsrPem("srv-1", key), now, now.AddHours(1));
        using var combined = ClientKey.CombineWithIssuedCertificate(key, pem);
        Assert.True(combined.HasPrivateKey);

        var foreign = ca.SignClientCsr(ClientKey.CreateCsrPem("srv-1", other), now, now.AddHours(1));
        var error = Assert.Throws<AgentException>(() => ClientKey.CombineWithIssuedCertificate(key, foreign));
        Assert.Contains("different key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ca_trust_rejects_certificates_from_other_cas()
    {
        using var ca = TestCa.Create("CA one");
        using var other = TestCa.Create("CA two");
        var trust = CaTrust.FromPem(ca.Pem, "test");
        using var good = ca.IssueServerCertificate();
        using var bad = other.IssueServerCertificate();

        Assert.True(trust.Validate(good, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(bad, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.Contains("not trusted", trust.LastFailure, StringComparison.Ordinal);
        Assert.False(trust.Validate(good, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch));
    }
}
