using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Identity;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// Agent identity: a server's events and the revocation of its agent's certificate (/api/v1/servers/{id}/…), and the
/// built-in CA with its rotation (/api/v1/ca).
/// </summary>
public static partial class CertificatesEndpoints
{
    /// <summary>Names of servers not yet renewed onto the current CA listed in answers.</summary>
    private const int NotRenewedListed = 20;

    public static IEndpointRouteBuilder MapCertificatesApi(this IEndpointRouteBuilder app)
    {
        var servers = app.MapGroup("/api/v1/servers").WithTags("Servers");
        servers.MapGet("/{id}/events", EventsAsync).RequireAuthorization(Permissions.ServersRead)
            .WithName("GetServerEvents").WithSummary("What happened to the server's agent identity: enrolments, renewals, revocations, refused (possibly cloned) certificates");
        servers.MapPost("/{id}/revoke-certificate", RevokeAsync).RequireAuthorization(Permissions.CertificatesManage)
            .WithName("RevokeServerCertificate").WithSummary("Revoke the agent's certificates (and its broker user) without deleting the server; the agent must enrol again");

        var ca = app.MapGroup("/api/v1/ca").WithTags("Certificate authority");
        ca.MapGet("/", GetCaAsync).RequireAuthorization(Permissions.CertificatesRead)
            .WithName("GetCa").WithSummary("The built-in CA, a rotation under way, and which agents hold certificates of which CA");
        ca.MapPost("/rotate", RotateAsync).RequireAuthorization(Permissions.CertificatesManage)
            .WithName("RotateCa").WithSummary("Start a CA rotation: a new CA signs agent certificates, the old one stays trusted until the rotation is finished");
        ca.MapPost("/rotate/finish", FinishAsync).RequireAuthorization(Permissions.CertificatesManage)
            .WithName("FinishCaRotation").WithSummary("Finish a CA rotation: the old CA is no longer trusted (refused while agents have not renewed, unless force=true)");
        return app;
    }

    public static async Task<Results<Ok<ServerEventView[]>, ProblemHttpResult>> EventsAsync(string id, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IManagedServerGrain>(id);
        if (await grain.GetAsync() is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var events = await grain.GetEventsAsync();
        return TypedResults.Ok(events.Reverse().Select(e => new ServerEventView(e.At, e.Kind, e.Severity, e.Message)).ToArray());
    }

    public static async Task<Ok<CertificateRevocationView>> RevokeAsync(string id, IGrainFactory grains)
    {
        // Unknown server: 404 from the grain. The revocation names its caller (request context).
        var result = await grains.GetGrain<IServerLifecycleGrain>(0).RevokeCertificatesAsync(id);
        var message = $"{result.Revoked} certificate(s) revoked; the agent of '{result.Server.Definition.Name}' is refused from now on and must enrol again with a new setup bundle"
            + result.BrokerUserRemoved switch
            {
                true => "; its broker user was removed",
                false => "; its broker user could NOT be removed (the broker did not answer): revoke again when the broker is back",
                null => string.Empty,
            };
        return TypedResults.Ok(new CertificateRevocationView(id, result.Revoked, result.BrokerUserRemoved, message));
    }

    public static async Task<Ok<CaView>> GetCaAsync(IGrainFactory grains, CertificateIssuer issuer) =>
        TypedResults.Ok(await ViewAsync(grains, await issuer.GetCaSetAsync(), null));

    public static async Task<Ok<CaView>> RotateAsync(IGrainFactory grains, CertificateIssuer issuer, ILoggerFactory loggers)
    {
        var set = await grains.GetGrain<ICertificateAuthorityGrain>("default").RotateAsync();
        issuer.Refresh();
        LogRotated(loggers.CreateLogger("ManagedServers.Api.Certificates"));
        return TypedResults.Ok(await ViewAsync(
            grains,
            set,
            "rotation started: agents get certificates of the new CA at their next renewal (and trust both CAs); finish the rotation once every agent has renewed"));
    }

    public static async Task<Results<Ok<CaView>, ProblemHttpResult>> FinishAsync(IGrainFactory grains, CertificateIssuer issuer, bool force = false)
    {
        var current = await grains.GetGrain<ICertificateAuthorityGrain>("default").GetOrCreateAsync();
        if (current.Previous is null)
        {
            return Problem.Of(409, "Conflict", "no CA rotation is under way; start one with POST /api/v1/ca/rotate", ProblemTypes.Conflict);
        }

        var before = await ViewAsync(grains, current, null);
        if (before.ServersOnPrevious > 0 && !force)
        {
            return Problem.Of(
                409,
                "Agents not renewed",
                $"{before.ServersOnPrevious} server(s) still hold a certificate of the old CA ({string.Join(", ", before.NotRenewed)}); "
                + "they would be refused once it is no longer trusted. Wait for their renewal, or finish with force=true and enrol them again",
                ProblemTypes.Conflict);
        }

        var set = await grains.GetGrain<ICertificateAuthorityGrain>("default").FinishRotationAsync();
        issuer.Refresh();
        return TypedResults.Ok(await ViewAsync(
            grains,
            set,
            before.ServersOnPrevious == 0
                ? "rotation finished: the old CA is no longer trusted"
                : $"rotation finished by force: the old CA is no longer trusted; {before.ServersOnPrevious} server(s) must enrol again"));
    }

    private static async Task<CaView> ViewAsync(IGrainFactory grains, CaSet set, string? message)
    {
        var currentCa = Describe(set.Current.CertificatePem);
        var previousCa = set.Previous is { } previous ? Describe(previous.CertificatePem) : null;

        // Admin-only, on demand: every index shard lists its servers once.
        var (servers, _) = await ServersEndpoints.QueryFleetAsync(grains, new IndexQuery(null, ServerSort.Name, false, int.MaxValue), 0, int.MaxValue);
        int onCurrent = 0, onPrevious = 0, without = 0;
        var notRenewed = new List<string>();
        foreach (var server in servers)
        {
            if (server.CertificateNotAfter is null)
            {
                without++;
            }
            else if (string.Equals(server.CertificateIssuer, currentCa.Subject, StringComparison.Ordinal))
            {
                onCurrent++;
            }
            else
            {
                // The previous CA's, or recorded before issuers were (then it cannot be the new CA's).
                onPrevious++;
                if (notRenewed.Count < NotRenewedListed)
                {
                    notRenewed.Add(server.Definition.Name);
                }
            }
        }

        message ??= previousCa is null
            ? "no rotation under way"
            : $"rotation under way since {set.RotationStartedAt:u}: {onPrevious} server(s) still hold a certificate of the old CA";
        return new CaView(currentCa, previousCa, set.RotationStartedAt, onCurrent, previousCa is null ? 0 : onPrevious, without, [.. notRenewed], message);
    }

    private static CaCertificateView Describe(string pem)
    {
        using var certificate = X509Certificate2.CreateFromPem(pem);
        return new CaCertificateView(
            certificate.Subject,
            Convert.ToHexString(SHA256.HashData(certificate.RawData)),
            certificate.NotBefore.ToUniversalTime(),
            certificate.NotAfter.ToUniversalTime(),
            pem);
    }

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "CA rotation started through the API")]
    private static partial void LogRotated(ILogger logger);
}
