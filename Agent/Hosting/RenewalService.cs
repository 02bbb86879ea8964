using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Hosting;

/// <summary>
/// Renews the client certificate when <see cref="RenewalSchedule"/> says so: a new key and CSR, POST
/// <c>/api/v1/agent/renew</c> over mTLS with the current certificate, then the new pair is saved and the
/// shared connection switched to it. Failures retry with backoff (1 s to 5 min).
/// </summary>
internal sealed class RenewalService(
    AgentConnection connection,
    AgentRuntimeSettings settings,
    StateDirectory state,
    RenewalSchedule schedule,
    TimeProvider time,
    ILogger<RenewalService> logger) : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        var announce = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            var (notBefore, notAfter) = Validity(connection.ClientCertificate);
            var renewAt = schedule.RenewAt(notBefore, notAfter);
            if (announce)
            {
                logger.CertificateStatus(connection.ClientCertificate.Thumbprint, notAfter, renewAt);
                announce = false;
            }

            try
            {
                await Delays.UntilAsync(renewAt, time, stoppingToken);
                var renewed = await RenewAsync(stoppingToken);
                backoff.Reset();
                announce = true;
                logger.CertificateRenewed(renewed.Thumbprint, Validity(renewed).NotAfter);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = backoff.Next();
                logger.RenewalFailed(backoff.Failures, TransportErrors.Describe(e, connection.BaseUri, connection.Trust), delay.TotalSeconds);
                if (time.GetUtcNow() >= notAfter)
                {
                    logger.CertificateExpired(notAfter);
                }

                if (!await Delays.TryDelayAsync(delay, time, stoppingToken))
                {
                    return;
                }
            }
        }
    }

    internal static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(X509Certificate2 certificate) =>
        (new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));

    /// <summary>One renewal; returns the new certificate, already in use.</summary>
    internal async Task<X509Certificate2> RenewAsync(CancellationToken cancellationToken)
    {
        using var key = ClientKey.Create();
        var request = new RenewRequest(ClientKey.CreateCsrPem(settings.ServerId, key));
        using var timeout = new CancellationTokenSource(RequestTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var content = JsonContent.Create(request, ContractsJson.Default.RenewRequest);
        using var response = await connection.Client.PostAsync(connection.Resolve(AgentEndpoints.Renew), content, linked.Token);
        if (!response.IsSuccessStatusCode)
        {
            throw new ControlPlaneException(await ProblemInfo.ReadAsync(response, linked.Token));
        }

        var answer = await response.Content.ReadFromJsonAsync(ContractsJson.Default.CertificateResponse, linked.Token);
        if (answer is null || string.IsNullOrWhiteSpace(answer.CertificatePem))
        {
            throw new AgentException("the control plane answered the renewal without a certificate");
        }

        var certificate = ClientKey.CombineWithIssuedCertificate(key, answer.CertificatePem);
        try
        {
            state.WriteRenewedCredentials(key.ExportPkcs8PrivateKeyPem(), answer.CertificatePem);
            if (answer.Amqp is not null)
            {
                state.WriteAmqp(answer.Amqp); // rotated broker password: used from the next (re)connection on
            }

            // The CAs to trust from now on: two while the control plane rotates its CA, then the new one only.
            if (!string.IsNullOrWhiteSpace(answer.CaCertificatePem) && !string.Equals(answer.CaCertificatePem.Trim(), state.ReadCaPem().Trim(), StringComparison.Ordinal))
            {
                connection.Trust.Replace(answer.CaCertificatePem, "the renewal answer's ca_pem");
                state.WriteCaPem(answer.CaCertificatePem);
            }
        }
        catch
        {
            certificate.Dispose();
            throw;
        }

        connection.UpdateClientCertificate(certificate);
        return certificate;
    }
}
