using System.Globalization;
using System.Security.Claims;
using DiffPlex.Renderer;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Dns;
using ManagedServers.Grains.Interfaces.Zones;
using Microsoft.AspNetCore.Authorization;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// A DNS server's zones and configuration: <c>/api/v1/servers/{id}/zones</c> (assignment), <c>push-config</c>,
/// <c>push-zones</c> and <c>config-versions</c> (list, show, diff, re-apply). Pushes are jobs of the server's workflow
/// (202; follow them at /api/v1/jobs/{job_id}). Agents fetch large zone files from <see cref="AgentApi.ZoneFileTemplate"/> (mapped with the agent routes).
/// </summary>
public static class ServerDnsEndpoints
{
    public static IEndpointRouteBuilder MapServerDnsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/servers/{id}").WithTags("DNS servers").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/servers/{id}").WithTags("DNS servers").RequireAuthorization(Permissions.DnsPush);
        read.MapGet("/zones", GetZonesAsync).WithName("GetServerZones")
            .WithSummary("Zones assigned to a DNS server: serial now, serial live on the server, in_sync | changed | not_pushed | deleted");
        write.MapPut("/zones", SetZonesAsync).WithName("SetServerZones")
            .WithSummary("Assign exactly these zones (a JSON array of names); they reach the server with the next push");
        write.MapPost("/zones/{zone}", AssignZoneAsync).WithName("AssignServerZone")
            .WithSummary("Assign one more zone, keeping the others (again: no change); it reaches the server with the next push");
        write.MapDelete("/zones/{zone}", UnassignZoneAsync).WithName("UnassignServerZone")
            .WithSummary("Unassign one zone, keeping the others (not assigned: no change); the next push stops serving it");
        read.MapPost("/push-config", PushConfigAsync).WithName("PushConfig")
            .WithSummary("Apply the server's configuration: DNS (needs dns.push; {\"atomic\": true}: all zones or none) or DHCP (needs dhcp.push; {\"family\": 4|6, \"acknowledge_warnings\": true}); validated on the agent, switched atomically, health-checked, rolled back on failure (202: a job)");
        write.MapPost("/push-zones", PushZonesAsync).WithName("PushZones")
            .WithSummary("Send the zones changed since the server's last applied version (?full=true: all), with the configuration (202: a job); a zone knotd would not load is named and the others apply, unless {\"atomic\": true}");
        read.MapGet("/config-versions", ListVersionsAsync).WithName("ListConfigVersions").WithSummary("Applied DNS configuration versions, newest first");
        read.MapGet("/config-versions/{version:int}", GetVersionAsync).WithName("GetConfigVersion")
            .WithSummary("One applied configuration version: the model and the knot.conf rendered from it");
        read.MapGet("/config-versions/{version:int}/diff", DiffAsync).WithName("DiffConfigVersions")
            .WithSummary("Unified diff of knot.conf between ?from=N (default: the version before) and this version");
        write.MapPost("/config-versions/{version:int}/apply", RevertAsync).WithName("ApplyConfigVersion")
            .WithSummary("Re-apply an earlier version (revert): its zones and listen entries become the server's again (202: a job)");

        return app;
    }

    public static async Task<Ok<ServerDnsView>> GetZonesAsync(string id, IGrainFactory grains) =>
        TypedResults.Ok(ToView(await grains.GetGrain<IServerDnsGrain>(id).GetDnsAsync()));

    public static async Task<Results<Ok<ServerDnsView>, ValidationProblem>> SetZonesAsync(string id, string[]? body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        if (body is null)
        {
            errors.Add("body", "must be a JSON array of zone names, e.g. [\"example.test\"] ([] unassigns all)");
            return errors.ToProblem();
        }

        var names = new List<string>(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            if (ZoneNames.TryNormalize(body[i], out var name, out var error))
            {
                names.Add(name);
            }
            else
            {
                errors.Add($"[{i}]", error);
            }
        }

        if (names.Count > ServerDnsLimits.MaxZones)
        {
            errors.Add("body", $"at most {ServerDnsLimits.MaxZones} zones per server");
        }

        return errors.Any ? errors.ToProblem() : TypedResults.Ok(ToView(await grains.GetGrain<IServerDnsGrain>(id).SetZonesAsync([.. names])));
    }

    public static Task<Results<Ok<ServerDnsView>, ValidationProblem>> AssignZoneAsync(string id, string zone, IGrainFactory grains) =>
        OneZoneAsync(zone, name => grains.GetGrain<IServerDnsGrain>(id).AssignZoneAsync(name));

    public static Task<Results<Ok<ServerDnsView>, ValidationProblem>> UnassignZoneAsync(string id, string zone, IGrainFactory grains) =>
        OneZoneAsync(zone, name => grains.GetGrain<IServerDnsGrain>(id).UnassignZoneAsync(name));

    /// <summary>
    /// Assign or unassign one zone named in the path (as <see cref="ZoneUrl"/> writes it; normalised: case, trailing dot); a
    /// bad name is 400 <c>errors.zone</c>.
    /// </summary>
    private static async Task<Results<Ok<ServerDnsView>, ValidationProblem>> OneZoneAsync(string zone, Func<string, Task<ServerDnsSnapshot>> change)
    {
        if (!ZoneNames.TryNormalize(ZoneUrl.Name(zone), out var name, out var error))
        {
            var errors = new FieldErrors();
            errors.Add("zone", error);
            return errors.ToProblem();
        }

        return TypedResults.Ok(ToView(await change(name)));
    }

    /// <summary>
    /// push-config of any server: the DNS configuration of a DNS server, the DHCP configuration of a DHCP server (the
    /// permission asked for follows the server's kind, so the route itself only needs a signed-in person).
    /// </summary>
    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> PushConfigAsync(
        string id, HttpRequest request, IGrainFactory grains, IAuthorizationService authorization, PushRequest? body = null)
    {
        var server = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
        if (server is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var dhcp = server.Definition.Kind == ServerKind.Dhcp;
        if (!(await authorization.AuthorizeAsync(request.HttpContext.User, dhcp ? Permissions.DhcpPush : Permissions.DnsPush)).Succeeded)
        {
            return Problem.Forbidden($"pushing to a {(dhcp ? "DHCP" : "DNS")} server needs the {(dhcp ? Permissions.DhcpPush : Permissions.DnsPush)} permission");
        }

        if (!dhcp)
        {
            return await StartAsync(id, request, grains, body?.WaitForAgentSeconds, (key, wait) => new JobRequest(JobKinds.PushConfig, ServiceKinds.Dns, new DnsPushSpec(Atomic: body?.Atomic == true), key, wait));
        }

        if (body?.Family is { } f && f is not (4 or 6))
        {
            var errors = new FieldErrors();
            errors.Add("family", "must be 4 or 6");
            return errors.ToProblem();
        }

        var dhcpGrain = grains.GetGrain<ManagedServers.Grains.Interfaces.Dhcp.IServerDhcpGrain>(id);
        var family = body?.Family is 6 ? DhcpFamily.V6
            : body?.Family is 4 || await dhcpGrain.GetConfigAsync(DhcpFamily.V4) is not null || await dhcpGrain.GetConfigAsync(DhcpFamily.V6) is null ? DhcpFamily.V4 : DhcpFamily.V6;
        var service = family == DhcpFamily.V6 ? ServiceKinds.Dhcp6 : ServiceKinds.Dhcp4;
        return await StartAsync(id, request, grains, body?.WaitForAgentSeconds, (key, wait) => new JobRequest(JobKinds.DhcpPush, service, new DhcpPushSpec(family, body?.AcknowledgeWarnings == true), key, wait));
    }

    public static Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> PushZonesAsync(
        string id, HttpRequest request, IGrainFactory grains, bool? full = null, PushRequest? body = null) =>
        StartAsync(id, request, grains, body?.WaitForAgentSeconds, (key, wait) => new JobRequest(JobKinds.PushZones, ServiceKinds.Dns, new DnsPushSpec(full == true, body?.Atomic == true), key, wait));

    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> RevertAsync(
        string id, int version, HttpRequest request, IGrainFactory grains, string? service = null, JobOptionsRequest? body = null)
    {
        var check = new FieldErrors();
        var key = ServicesEndpoints.IdempotencyKey(request, check);
        ServicesEndpoints.CheckWait(body?.WaitForAgentSeconds, check);
        return check.Any ? check.ToProblem() : await RevertVersionAsync(id, version, grains, service, key, ServicesEndpoints.Wait(body?.WaitForAgentSeconds));
    }

    /// <summary>Re-applies configuration version <paramref name="version"/> of the server's <paramref name="service"/> history (the API's route and the UI).</summary>
    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> RevertVersionAsync(
        string id, int version, IGrainFactory grains, string? service, string? key, TimeSpan? wait)
    {
        var (history, problem) = await HistoryAsync(grains, id, service);
        if (problem is not null)
        {
            return problem.NotFound is { } nf ? nf : problem.Invalid!;
        }

        if (history == ServiceKinds.Dns)
        {
            return await ServicesEndpoints.StartAsync(grains, id, new JobRequest(JobKinds.RevertConfig, ServiceKinds.Dns, new DnsRevertSpec(version), key, wait));
        }

        // DHCP: the version's Kea document becomes the server's configuration again (an import renders it back byte for
        // byte), then it is pushed like any change: tested by Kea, switched, checked, rolled back on failure.
        var record = await grains.GetGrain<IServerConfigVersionsGrain>(id).GetServiceConfigVersionAsync(history!, version);
        if (record is null)
        {
            return Problem.NotFound($"{history} configuration version {version} of server '{id}' not found");
        }

        await grains.GetGrain<ManagedServers.Grains.Interfaces.Dhcp.IServerDhcpGrain>(id).ImportAsync(record.Content);
        var family = history == ServiceKinds.Dhcp6 ? DhcpFamily.V6 : DhcpFamily.V4;
        return await ServicesEndpoints.StartAsync(grains, id, new JobRequest(JobKinds.DhcpPush, history!, new DhcpPushSpec(family, AcknowledgeWarnings: true), key, wait));
    }

    private static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> StartAsync(
        string id, HttpRequest request, IGrainFactory grains, int? waitForAgentSeconds, Func<string?, TimeSpan?, JobRequest> job)
    {
        var errors = new FieldErrors();
        var key = ServicesEndpoints.IdempotencyKey(request, errors);
        ServicesEndpoints.CheckWait(waitForAgentSeconds, errors);
        return errors.Any ? errors.ToProblem() : await ServicesEndpoints.StartAsync(grains, id, job(key, ServicesEndpoints.Wait(waitForAgentSeconds)));
    }

    /// <summary>
    /// Which version history a request reads: <c>dns</c> on a DNS server; on a DHCP server <c>?service=dhcp4</c> (default)
    /// or <c>dhcp6</c>. 404 for an unknown server, 400 for a service the server has no history of.
    /// </summary>
    private static async Task<(string? Service, ProblemResult? Problem)> HistoryAsync(IGrainFactory grains, string id, string? service)
    {
        if (await grains.GetGrain<IManagedServerGrain>(id).GetAsync() is not { } server)
        {
            return (null, new ProblemResult(Problem.NotFound($"server '{id}' not found"), null));
        }

        string[] allowed = server.Definition.Kind == ServerKind.Dhcp ? [ServiceKinds.Dhcp4, ServiceKinds.Dhcp6] : [ServiceKinds.Dns];
        var chosen = service ?? allowed[0];
        if (!allowed.Contains(chosen, StringComparer.Ordinal))
        {
            var errors = new FieldErrors();
            errors.Add("service", $"must be {string.Join(" or ", allowed)} for this {server.Definition.Kind.ToString().ToLowerInvariant()} server");
            return (null, new ProblemResult(null, errors.ToProblem()));
        }

        return (chosen, null);
    }

    /// <summary>A 404 or a 400, whichever the history lookup gave.</summary>
    private sealed record ProblemResult(ProblemHttpResult? NotFound, ValidationProblem? Invalid);

    public static async Task<Results<Ok<ConfigVersionView[]>, ValidationProblem, ProblemHttpResult>> ListVersionsAsync(string id, IGrainFactory grains, string? service = null)
    {
        var (history, problem) = await HistoryAsync(grains, id, service);
        if (problem is not null)
        {
            return problem.NotFound is { } nf ? nf : problem.Invalid!;
        }

        if (history == ServiceKinds.Dns)
        {
            var versions = await grains.GetGrain<IServerDnsGrain>(id).ListConfigVersionsAsync();
            return TypedResults.Ok(versions.Select(v => new ConfigVersionView(v.Number, v.AppliedAt, v.JobId, v.ZoneCount, v.Sha256, v.Live, ServiceKinds.Dns, v.ZoneCount)).ToArray());
        }

        var list = await grains.GetGrain<IServerConfigVersionsGrain>(id).ListServiceConfigVersionsAsync(history!);
        return TypedResults.Ok(list.Select(v => new ConfigVersionView(v.Number, v.AppliedAt, v.JobId, 0, v.Sha256, v.Live, v.Service, v.Items)).ToArray());
    }

    public static async Task<Results<Ok<ConfigVersionDetailView>, ValidationProblem, ProblemHttpResult>> GetVersionAsync(string id, int version, IGrainFactory grains, string? service = null)
    {
        var (history, problem) = await HistoryAsync(grains, id, service);
        if (problem is not null)
        {
            return problem.NotFound is { } nf ? nf : problem.Invalid!;
        }

        if (history == ServiceKinds.Dns)
        {
            var v = await grains.GetGrain<IServerDnsGrain>(id).GetConfigVersionAsync(version);
            return v is null
                ? Problem.NotFound($"configuration version {version} of server '{id}' not found")
                : TypedResults.Ok(new ConfigVersionDetailView(
                    v.Summary.Number, v.Summary.AppliedAt, v.Summary.JobId, v.Summary.Live, v.Listen, [.. v.Zones.Select(ToView)], v.KnotConf, ServiceKinds.Dns, v.KnotConf));
        }

        var record = await grains.GetGrain<IServerConfigVersionsGrain>(id).GetServiceConfigVersionAsync(history!, version);
        return record is null
            ? Problem.NotFound($"{history} configuration version {version} of server '{id}' not found")
            : TypedResults.Ok(new ConfigVersionDetailView(record.Summary.Number, record.Summary.AppliedAt, record.Summary.JobId, record.Summary.Live, [], [], string.Empty, history!, record.Content));
    }

    public static async Task<Results<Ok<ConfigDiffView>, ValidationProblem, ProblemHttpResult>> DiffAsync(string id, int version, IGrainFactory grains, int? from = null, string? service = null)
    {
        var (history, problem) = await HistoryAsync(grains, id, service);
        if (problem is not null)
        {
            return problem.NotFound is { } nf ? nf : problem.Invalid!;
        }

        var grain = grains.GetGrain<IServerConfigVersionsGrain>(id);
        var to = await grain.GetServiceConfigVersionAsync(history!, version);
        if (to is null)
        {
            return Problem.NotFound($"{history} configuration version {version} of server '{id}' not found");
        }

        var fromNumber = from ?? (await grain.ListServiceConfigVersionsAsync(history!)).Where(v => v.Number < version).Select(v => (int?)v.Number).FirstOrDefault();
        var old = fromNumber is { } n ? await grain.GetServiceConfigVersionAsync(history!, n) : null;
        if (from is not null && old is null)
        {
            return Problem.NotFound($"{history} configuration version {from} of server '{id}' not found");
        }

        var oldText = old?.Content ?? string.Empty;
        var oldName = old is null ? "(nothing)" : $"version {old.Summary.Number.ToString(CultureInfo.InvariantCulture)}";
        var diff = oldText == to.Content
            ? string.Empty
            : UnidiffRenderer.GenerateUnidiff(oldText, to.Content, oldName, $"version {version.ToString(CultureInfo.InvariantCulture)}", false, false, 3);
        return TypedResults.Ok(new ConfigDiffView(old?.Summary.Number ?? 0, version, oldText == to.Content, diff));
    }

    /// <summary>
    /// An agent's zone file for <c>dns.apply</c>, streamed as stored (gzip). Only zones assigned to the agent's own server;
    /// 410 when the zone has moved on since the push was planned (the agent fails the push; nothing changes).
    /// </summary>
    public static async Task<IResult> ZoneFileAsync(string zone, ClaimsPrincipal user, IGrainFactory grains, long? serial = null)
    {
        var serverId = ServersEndpoints.ServerIdOf(user)!;
        if (!ZoneNames.TryNormalize(ZoneUrl.Name(zone), out var name, out _) || !await grains.GetGrain<IServerDnsGrain>(serverId).IsZoneAssignedAsync(name))
        {
            return Problem.Of(403, "Zone not assigned", $"zone '{zone}' is not assigned to this agent's server", ProblemTypes.Forbidden);
        }

        var blob = await grains.GetGrain<IZoneGrain>(name).GetFileAsync();
        if (blob is null)
        {
            return Problem.NotFound($"zone '{name}' not found");
        }

        if (serial is { } wanted && wanted != blob.Serial)
        {
            return Problem.Of(410, "Zone changed", $"zone '{name}' is at serial {blob.Serial} now, not {wanted}: it changed since the push was made; push again", ProblemTypes.NotFound);
        }

        return TypedResults.File(blob.Gzip, "application/gzip", "zone.gz");
    }

    private static ServerDnsView ToView(ServerDnsSnapshot s) => new(s.ServerId, [.. s.Zones.Select(ToView)], s.Listen, s.LiveVersion);

    private static ServerZoneView ToView(ServerZone z) => new(z.Name, z.Serial, z.AppliedSerial, z.AppliedAt, SyncOf(z));

    /// <summary>How a zone on a server stands: in_sync, changed (pushed, then edited), not_pushed or deleted.</summary>
    public static string SyncOf(ServerZone z) => z switch
    {
        { AppliedSerial: null, Serial: null } => "deleted",
        { AppliedSerial: null } => "not_pushed",
        { Serial: null } => "deleted",
        _ when z.Serial == z.AppliedSerial => "in_sync",
        _ => "changed",
    };
}
