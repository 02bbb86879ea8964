using System.Text.Json;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
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
        app.MapGet("/api/v1/servers/{id}/leases", LeasesAsync).WithTags("DHCP servers").RequireAuthorization(Permissions.ServersRead).WithName("ListDhcpLeases")
            .WithSummary("The server's leases, asked of Kea now (lease_cmds): ?search= an address, MAC, client-id, DUID or host name; without it, a page of ?limit= (default 100) in address order from ?from= (one ?family=)");
        read.MapGet("/status", StatusAsync).WithName("GetDhcpStatus")
            .WithSummary("What Kea says now (?family=4 or 6): sockets ready, uptime, and in an HA pair this peer's role and state and its partner's");
        app.MapDelete("/api/v1/servers/{id}/leases/{address}", DeleteLeaseAsync).WithTags("DHCP servers").RequireAuthorization(Permissions.DhcpWrite).WithName("DeleteDhcpLease")
            .WithSummary("Delete one lease (Kea forgets it; the client is given an address anew when it next asks); 404 when there is none");
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

    public static async Task<Results<Ok<DhcpLeasesView>, ValidationProblem, ProblemHttpResult>> LeasesAsync(
        string id, IGrainFactory grains, string? search = null, int? family = null, string? from = null, int? limit = null)
    {
        var errors = new FieldErrors();
        if (family is not null and not 4 and not 6)
        {
            errors.Add("family", "must be 4 or 6");
        }

        if (limit is < 1 or > 1000)
        {
            errors.Add("limit", "must be between 1 and 1000");
        }

        if (from is not null && (!System.Net.IPAddress.TryParse(from, out var start) || family is null || (start.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) != (family == 4)))
        {
            errors.Add("from", "must be an address of the one ?family= listed (the 'next' of the page before)");
        }

        if (search?.Length > 255)
        {
            errors.Add("search", "is longer than 255 characters");
        }

        var (server, offline) = await AgentQuery.ReachableAsync(grains, id);
        if (server is not null && server.Definition.Kind != ServerKind.Dhcp)
        {
            errors.Add("id", $"server '{id}' is not a DHCP server");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (offline is not null)
        {
            return offline;
        }

        var services = (server!.Services.IsDefault ? [] : server.Services).Select(s => s.Kind)
            .Where(k => k == (family switch { 4 => ServiceKinds.Dhcp4, 6 => ServiceKinds.Dhcp6, _ => k }) && k is ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6)
            .Order(StringComparer.Ordinal).ToList();
        if (services.Count == 0)
        {
            return Problem.Of(409, "No DHCP service", $"server '{server.Definition.Name}' has no {(family is null ? "dhcp4 or dhcp6" : $"dhcp{family}")} service", ProblemTypes.Conflict);
        }

        var items = new List<DhcpLeaseView>();
        string? next = null;
        string? searchedBy = null;
        foreach (var service in services)
        {
            var args = new DhcpLeasesArgs(service, string.IsNullOrWhiteSpace(search) ? null : search.Trim(), from, limit ?? 100);
            var (status, timeout) = await AgentQuery.AskAsync(grains, server, CommandKinds.DhcpLeases, JsonSerializer.Serialize(args, ContractsJson.Default.DhcpLeasesArgs));
            if (timeout is not null)
            {
                return timeout;
            }

            if (status.State != CommandState.Succeeded || status.OutputJson is null)
            {
                return Problem.Of(502, "Kea did not answer", $"{service} on '{server.Definition.Name}': {status.Error ?? "no output"}", ProblemTypes.AgentOffline);
            }

            var output = JsonSerializer.Deserialize(status.OutputJson, ContractsJson.Default.DhcpLeasesOutput)!;
            var f = service == ServiceKinds.Dhcp4 ? 4 : 6;
            items.AddRange(output.Items.Select(l => new DhcpLeaseView(f, l.Address, l.HwAddress, l.ClientId, l.Duid, l.Hostname, l.SubnetId, l.ExpiresAt, l.State, l.Type, l.PrefixLength)));
            next = services.Count == 1 ? output.Next : null;
            searchedBy ??= output.SearchedBy;
        }

        return TypedResults.Ok(new DhcpLeasesView(items, next, searchedBy));
    }

    public static async Task<Results<Ok<DhcpServiceStatusView>, ValidationProblem, ProblemHttpResult>> StatusAsync(string id, IGrainFactory grains, int family = 4)
    {
        if (Family(family) is null)
        {
            return FamilyProblem();
        }

        var (server, offline) = await AgentQuery.ReachableAsync(grains, id);
        if (offline is not null)
        {
            return offline;
        }

        var service = family == 6 ? ServiceKinds.Dhcp6 : ServiceKinds.Dhcp4;
        if (server!.Services.IsDefault || !server.Services.Any(s => s.Kind == service))
        {
            return Problem.Of(409, "No DHCP service", $"server '{server.Definition.Name}' has no {service} service", ProblemTypes.Conflict);
        }

        var (status, timeout) = await AgentQuery.AskAsync(grains, server, CommandKinds.DhcpStatus, JsonSerializer.Serialize(new DhcpStatusArgs(service), ContractsJson.Default.DhcpStatusArgs));
        if (timeout is not null)
        {
            return timeout;
        }

        if (status.State != CommandState.Succeeded || status.OutputJson is null)
        {
            return Problem.Of(502, "Kea did not answer", $"{service} on '{server.Definition.Name}': {status.Error ?? "no output"}", ProblemTypes.AgentOffline);
        }

        var o = JsonSerializer.Deserialize(status.OutputJson, ContractsJson.Default.DhcpStatusOutput)!;
        return TypedResults.Ok(new DhcpServiceStatusView(family, o.SocketsReady, o.UptimeSeconds, o.HaMode, o.HaRole, o.HaState, o.PartnerState, o.PartnerInTouch));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteLeaseAsync(string id, string address, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        if (!System.Net.IPAddress.TryParse(address, out var ip) || ip.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            errors.Add("address", $"'{address}' is not an IPv4 or IPv6 address");
            return errors.ToProblem();
        }

        var (server, offline) = await AgentQuery.ReachableAsync(grains, id);
        if (offline is not null)
        {
            return offline;
        }

        var service = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? ServiceKinds.Dhcp4 : ServiceKinds.Dhcp6;
        if (server!.Services.IsDefault || !server.Services.Any(s => s.Kind == service))
        {
            return Problem.Of(409, "No DHCP service", $"server '{server.Definition.Name}' has no {service} service", ProblemTypes.Conflict);
        }

        var args = JsonSerializer.Serialize(new DhcpLeaseDeleteArgs(service, ip.ToString()), ContractsJson.Default.DhcpLeaseDeleteArgs);
        var (status, timeout) = await AgentQuery.AskAsync(grains, server, CommandKinds.DhcpLeaseDelete, args);
        if (timeout is not null)
        {
            return timeout;
        }

        return status.State == CommandState.Succeeded
            ? TypedResults.NoContent()
            : status.Error?.EndsWith("(not found)", StringComparison.Ordinal) == true
                ? Problem.NotFound($"{service} on '{server.Definition.Name}' has no lease of {ip}")
                : Problem.Of(502, "Kea did not answer", $"{service} on '{server.Definition.Name}': {status.Error}", ProblemTypes.AgentOffline);
    }

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
