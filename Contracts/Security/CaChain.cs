using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ManagedServers.Contracts.Security;

/// <summary>
/// Certificate checks against the control plane's own CA only (never the system roots), shared by
/// the agent, the control plane, the tests and the fleet simulator.
/// </summary>
public static class CaChain
{
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>Builds the chain of <paramref name="leaf"/> to <paramref name="roots"/>; null when it is trusted, else why not.</summary>
    public static string? Check(X509Certificate2 leaf, X509Certificate2Collection roots, DateTime? at = null, string? requiredUsageOid = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time;
        }

        if (requiredUsageOid is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(requiredUsageOid));
        }

        return chain.Build(leaf) ? null : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
    }

    /// <summary>The certificate's common name (CN), or an empty string.</summary>
    public static string CommonName(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, false) ?? string.Empty;

    /// <summary>
    /// Pull mode, on the agent: null when <paramref name="leaf"/> is the control plane's client certificate —
    /// it chains to <paramref name="roots"/> (the pinned CA), allows clientAuth and has the CN
    /// <see cref="Agent.AgentApi.ControlPlaneCommonName"/> — else why not.
    /// </summary>
    public static string? CheckControlPlaneClient(X509Certificate2 leaf, X509Certificate2Collection roots, DateTime? at = null)
    {
        if (Check(leaf, roots, at, ClientAuthOid) is { } statuses)
        {
            return $"the client certificate ({leaf.Subject}) is not a client certificate of the control plane CA ({statuses})";
        }

        var cn = CommonName(leaf);
        return cn == Agent.AgentApi.ControlPlaneCommonName
            ? null
            : $"the client certificate's CN is '{cn}', not '{Agent.AgentApi.ControlPlaneCommonName}'";
    }

    /// <summary>
    /// Pull mode, on the control plane: null when <paramref name="leaf"/>, presented by an agent's pull endpoint,
    /// is that server's agent certificate — it chains to <paramref name="ca"/>, its CN is <paramref name="serverId"/>,
    /// and it allows serverAuth (or, issued before agent certificates carried serverAuth, clientAuth: such a
    /// certificate is replaced at the agent's next renewal) — else why not. Host names are not checked: the CN is
    /// the identity, whatever address the server is reached at.
    /// </summary>
    public static string? CheckAgentServer(X509Certificate2 leaf, X509Certificate2 ca, string serverId, DateTime? at = null) =>
        CheckAgentServer(leaf, [ca], serverId, at);

    /// <summary>As <see cref="CheckAgentServer(X509Certificate2, X509Certificate2, string, DateTime?)"/>, trusting any of <paramref name="cas"/> (two during a CA rotation).</summary>
    public static string? CheckAgentServer(X509Certificate2 leaf, X509Certificate2Collection cas, string serverId, DateTime? at = null)
    {
        if (Check(leaf, cas, at, ServerAuthOid) is { } statuses && Check(leaf, cas, at, ClientAuthOid) is not null)
        {
            return $"the agent's certificate ({leaf.Subject}) is not trusted by the control plane CA for TLS ({statuses})";
        }

        var cn = CommonName(leaf);
        return string.Equals(cn, serverId, StringComparison.Ordinal)
            ? null
            : $"the agent's certificate is for '{cn}', not for server '{serverId}'";
    }

    /// <summary>True when <paramref name="leaf"/> chains to <paramref name="ca"/>.</summary>
    public static bool IsTrusted(X509Certificate leaf, X509Certificate2 ca, DateTime? at = null, string? requiredUsageOid = null) =>
        IsTrusted(leaf, [ca], at, requiredUsageOid);

    /// <summary>True when <paramref name="leaf"/> chains to one of <paramref name="cas"/>.</summary>
    public static bool IsTrusted(X509Certificate leaf, X509Certificate2Collection cas, DateTime? at = null, string? requiredUsageOid = null)
    {
        using var copy = new X509Certificate2(leaf);
        return Check(copy, cas, at, requiredUsageOid) is null;
    }

    /// <summary>An HTTP handler that trusts only <paramref name="ca"/> and presents <paramref name="client"/> when given.</summary>
    public static SocketsHttpHandler PinnedHandler(X509Certificate2 ca, X509Certificate2? client = null) => PinnedHandler([ca], client);

    /// <summary>An HTTP handler that trusts only <paramref name="cas"/> (two during a CA rotation) and presents <paramref name="client"/> when given.</summary>
    public static SocketsHttpHandler PinnedHandler(X509Certificate2Collection cas, X509Certificate2? client = null)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (client is not null)
        {
            handler.SslOptions.ClientCertificates = [client];
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && IsTrusted(cert, cas, requiredUsageOid: ServerAuthOid);
        return handler;
    }

    /// <summary>A certificate with its private key, usable by SslStream on Linux (PEM keys are ephemeral otherwise).</summary>
    public static X509Certificate2 WithKey(string certificatePem, string keyPem)
    {
        using var pem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
