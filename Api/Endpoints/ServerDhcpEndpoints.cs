using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// A DHCP server's configuration: <c>/api/v1/servers/{id}/dhcp/import</c> (a whole Kea document in), <c>rendered</c>
/// (what a push sends, byte for byte) and <c>review</c>. Pushing is <c>POST /api/v1/servers/{id}/push-config</c>.
/// </summary>
public static class ServerDhcpEndpoints
{
    public static IEndpointRouteBuilder MapServerDhcpApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/servers/{id}/dhcp").WithTags("DHCP servers").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/servers/{id}/dhcp").WithTags("DHCP servers").RequireAuthorization(Permissions.DhcpWrite);
        write.MapPost("/import", ImportAsync).WithName("ImportDhcpConfig")
            .Accepts<string>("application/json")
            .WithSummary("Import a whole Kea configuration ({\"Dhcp4\": …} or {\"Dhcp6\": …}, comments as Kea allows) as the server's configuration of that family: what the model covers becomes objects, the rest is kept verbatim; 200 with a summary and the review, 400 naming what is wrong and where");
        read.MapGet("/rendered", RenderedAsync).WithName("GetRenderedDhcpConfig")
            .WithSummary("The Kea document a push would send now (?family=4 or 6), byte for byte");
        read.MapGet("/review", ReviewAsync).WithName("ReviewDhcpConfig")
            .WithSummary("The review of the server's configuration (?family=4 or 6): errors refuse a push, warnings need acknowledge_warnings");
        return app;
    }

    /// <summary>Largest document taken (a configuration of 100,000 reservations is about 20 MB).</summary>
    public const int MaxDocumentBytes = 64 * 1024 * 1024;

    public static async Task<Results<Ok<DhcpImportView>, ValidationProblem, ProblemHttpResult>> ImportAsync(string id, HttpRequest request, IGrainFactory grains)
    {
        if (await grains.GetGrain<IManagedServerGrain>(id).GetAsync() is not { } server)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var errors = new FieldErrors();
        if (server.Definition.Kind != ServerKind.Dhcp)
        {
            errors.Add("id", $"server '{id}' is a {server.Definition.Kind.ToString().ToLowerInvariant()} server, not a DHCP server");
            return errors.ToProblem();
        }

        if (request.ContentLength > MaxDocumentBytes)
        {
            errors.Add("body", $"is larger than {MaxDocumentBytes / (1024 * 1024)} MB");
            return errors.ToProblem();
        }

        using var reader = new StreamReader(request.Body);
        var document = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        if (string.IsNullOrWhiteSpace(document))
        {
            errors.Add("body", "must be a Kea configuration document such as {\"Dhcp4\": {…}}");
            return errors.ToProblem();
        }

        try
        {
            var summary = await grains.GetGrain<IServerDhcpGrain>(id).ImportAsync(document);
            return TypedResults.Ok(new DhcpImportView(
                (int)summary.Family, summary.Subnets, summary.SharedNetworks, summary.Pools, summary.PdPools, summary.Reservations,
                summary.Options, summary.OptionDefs, summary.ClientClasses, summary.Verbatim, summary.Notes, [.. summary.Findings.Select(ToView)]));
        }
        catch (DhcpConfigException e)
        {
            errors.Add(e.Field ?? "body", e.Message);
            return errors.ToProblem("The Kea configuration is not valid");
        }
    }

    public static async Task<Results<ContentHttpResult, ValidationProblem, ProblemHttpResult>> RenderedAsync(string id, IGrainFactory grains, int family = 4)
    {
        if (Family(family) is not { } f)
        {
            return FamilyProblem();
        }

        var rendered = await grains.GetGrain<IServerDhcpGrain>(id).RenderAsync(f);
        return rendered is null
            ? Problem.NotFound($"server '{id}' has no DHCPv{family} configuration")
            : TypedResults.Text(rendered, "application/json");
    }

    public static async Task<Results<Ok<DhcpFindingView[]>, ValidationProblem>> ReviewAsync(string id, IGrainFactory grains, int family = 4) =>
        Family(family) is { } f
            ? TypedResults.Ok((await grains.GetGrain<IServerDhcpGrain>(id).ReviewAsync(f)).Select(ToView).ToArray())
            : FamilyProblem();

    private static DhcpFamily? Family(int family) => family switch { 4 => DhcpFamily.V4, 6 => DhcpFamily.V6, _ => null };

    private static ValidationProblem FamilyProblem()
    {
        var errors = new FieldErrors();
        errors.Add("family", "must be 4 or 6");
        return errors.ToProblem();
    }

    private static DhcpFindingView ToView(DhcpFinding f) =>
        new(f.Severity == DhcpSeverity.Error ? "error" : "warning", f.Check, f.Object, f.Message);
}
