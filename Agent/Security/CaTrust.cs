using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;

namespace ManagedServers.Agent.Security;

/// <summary>
/// Trust in the control plane's server certificate: only the CA certificate(s) from the setup bundle
/// are trusted (<see cref="X509ChainTrustMode.CustomRootTrust"/>); the system roots never are.
/// </summary>
internal sealed class CaTrust
{
    private volatile string? _lastFailure;
    private volatile X509Certificate2Collection _roots;

    public CaTrust(X509Certificate2Collection roots)
    {
        if (roots.Count == 0)
        {
            throw new AgentException("no CA certificate to trust");
        }

        _roots = roots;
    }

    /// <summary>The CAs trusted now: one, or two while the control plane rotates its CA.</summary>
    public X509Certificate2Collection Roots => _roots;

    /// <summary>Trusts the CAs in <paramref name="pem"/> from now on (the control plane hands them out at each renewal).</summary>
    public void Replace(string pem, string source) => _roots = FromPem(pem, source).Roots;

    /// <summary>Why the last rejected server certificate was rejected, for error messages.</summary>
    public string? LastFailure => _lastFailure;

    /// <summary>Parses one or more PEM certificates; throws <see cref="AgentException"/> naming <paramref name="source"/>.</summary>
    public static CaTrust FromPem(string pem, string source)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new AgentException($"{source} is not a valid PEM certificate: {e.Message}", e);
        }

        if (roots.Count == 0)
        {
            throw new AgentException($"{source} contains no PEM certificate");
        }

        return new CaTrust(roots);
    }

    /// <summary>The callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        var failure = Check(certificate, errors);
        if (failure is not null)
        {
            _lastFailure = failure;
        }

        return failure is null;
    }

    private string? Check(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return "the server presented no certificate";
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"the server certificate ({certificate.Subject}) is not valid for this host name or IP address";
        }

        // The runtime built its chain against the system roots; build our own against the bundle CA only.
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        var statuses = CaChain.Check(leaf, Roots);
        return statuses is null
            ? null
            : $"the server certificate ({leaf.Subject}, issued by {leaf.Issuer}) is not trusted by the control plane CA ({statuses})";
    }
}
