using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Enrollment;

/// <summary>What a successful enrolment produced, ready to be written to the state directory.</summary>
internal sealed record EnrollmentResult(AgentSettings Settings, string KeyPem, string CertificatePem, string CaPem, DateTimeOffset NotAfter, AmqpCredentials? Amqp = null);

/// <summary>
/// Enrols with the control plane: a local ECDSA P-256 key, a CSR with CN = server id, and one POST to
/// <c>/api/v1/agent/enroll</c> authenticated by the one-time token (no client certificate), over TLS
/// trusting only the bundle's CA.
/// </summary>
internal sealed class EnrollmentClient(TimeSpan timeout, TimeProvider time)
{
    public async Task<EnrollmentResult> EnrollAsync(ValidatedBundle validated, CancellationToken cancellationToken)
    {
        var bundle = validated.Bundle;
        using var key = ClientKey.Create();
        var request = new EnrollRequest(
            bundle.ServerId,
            bundle.EnrollmentToken,
            ClientKey.CreateCsrPem(bundle.ServerId, key),
            AgentInfo.Version,
            AgentInfo.Hostname,
            AgentInfo.Os);

        var uri = AgentEndpoints.Resolve(validated.AgentUri, AgentEndpoints.Enroll);
        using var client = AgentHttp.CreateClient(AgentHttp.CreateHandler(validated.Trust, clientCertificate: null));
        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

        CertificateResponse? response;
        try
        {
            using var content = JsonContent.Create(request, ContractsJson.Default.EnrollRequest);
            using var answer = await client.PostAsync(uri, content, linked.Token);
            if (!answer.IsSuccessStatusCode)
            {
                throw new ControlPlaneException(await ProblemInfo.ReadAsync(answer, linked.Token));
            }

            response = await answer.Content.ReadFromJsonAsync(ContractsJson.Default.CertificateResponse, linked.Token);
        }
        catch (Exception e) when (e is not AgentException && !cancellationToken.IsCancellationRequested)
        {
            throw new AgentException(TransportErrors.Describe(e, uri, validated.Trust), e);
        }

        if (response is null || string.IsNullOrWhiteSpace(response.CertificatePem))
        {
            throw new AgentException("the control plane answered without a certificate");
        }

        if (!string.Equals(response.ServerId, bundle.ServerId, StringComparison.Ordinal))
        {
            throw new AgentException($"the control plane answered for server '{response.ServerId}', not '{bundle.ServerId}'");
        }

        using var certificate = ClientKey.CombineWithIssuedCertificate(key, response.CertificatePem);
        var settings = new AgentSettings(
            bundle.ServerId,
            string.IsNullOrWhiteSpace(response.ServerName) ? bundle.ServerName : response.ServerName,
            bundle.AgentUrl,
            response.HeartbeatIntervalSeconds > 0 ? response.HeartbeatIntervalSeconds : 30);
        return new EnrollmentResult(
            settings,
            key.ExportPkcs8PrivateKeyPem(),
            response.CertificatePem,
            MergeCa(bundle.CaCertificatePem, response.CaCertificatePem),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            response.Amqp);
    }

    /// <summary>
    /// The bundle CA stays the trust anchor; a different CA certificate in the answer (which came over a
    /// connection already authenticated by the bundle CA) is added after it.
    /// </summary>
    private static string MergeCa(string bundleCa, string? responseCa)
    {
        if (string.IsNullOrWhiteSpace(responseCa))
        {
            return bundleCa;
        }

        var known = new X509Certificate2Collection();
        known.ImportFromPem(bundleCa);
        var offered = new X509Certificate2Collection();
        try
        {
            offered.ImportFromPem(responseCa);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return bundleCa;
        }

        var pem = new System.Text.StringBuilder(bundleCa.TrimEnd()).Append('\n');
        foreach (var certificate in offered)
        {
            if (!known.Cast<X509Certificate2>().Any(k => k.Thumbprint == certificate.Thumbprint))
            {
                pem.Append(certificate.ExportCertificatePem()).Append('\n');
            }
        }

        return pem.ToString();
    }
}
