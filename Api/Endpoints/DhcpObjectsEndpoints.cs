using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// DHCP objects, one at a time: <c>/api/v1/dhcp/subnets</c> (with their pools and reservations), global reservations
/// and global options. Each server keeps its own configuration; a change names the <c>servers</c> it goes to, is checked
/// on every one of them first (shape here, then the review of each edited configuration), and changes none when one
/// refuses it. Reads name one <c>server</c>. A push (<c>POST /api/v1/servers/{id}/push-config</c>) sends the result.
/// </summary>
public static class DhcpObjectsEndpoints
{
    public static IEndpointRouteBuilder MapDhcpObjectsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/dhcp").WithTags("DHCP").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/dhcp").WithTags("DHCP").RequireAuthorization(Permissions.DhcpWrite);
        read.MapGet("/subnets", ListSubnetsAsync).WithName("ListDhcpSubnets").WithSummary("The subnets of one server's configuration (?server=ID, ?family=4 or 6; both families by default)");
        write.MapPost("/subnets", CreateSubnetAsync).WithName("CreateDhcpSubnet")
            .WithSummary("Add a subnet (explicit id, prefix, pools, reservations, options) to the configuration of each of 'servers'; 201, or 400/409 naming the field, nothing changed");
        read.MapGet("/subnets/{subnetId:long}", GetSubnetAsync).WithName("GetDhcpSubnet").WithSummary("One subnet of one server's configuration (?server=ID&family=4)");
        write.MapPut("/subnets/{subnetId:long}", ReplaceSubnetAsync).WithName("ReplaceDhcpSubnet")
            .WithSummary("Replace a subnet on each of 'servers' (members kept verbatim from an import stay)");
        write.MapDelete("/subnets/{subnetId:long}", DeleteSubnetAsync).WithName("DeleteDhcpSubnet")
            .WithSummary("Remove a subnet, its pools and reservations (?family=4&server=ID, server repeatable)");
        write.MapPost("/subnets/{subnetId:long}/pools", AddPoolAsync).WithName("AddDhcpPool").WithSummary("Add a pool to a subnet on each of 'servers'");
        write.MapDelete("/subnets/{subnetId:long}/pools", RemovePoolAsync).WithName("RemoveDhcpPool")
            .WithSummary("Remove a subnet's pool (?pool=first-last&family=4&server=ID)");
        write.MapPost("/subnets/{subnetId:long}/reservations", PutSubnetReservationAsync).WithName("PutDhcpReservation")
            .WithSummary("Add a reservation to a subnet on each of 'servers' (the same client's reservation is replaced)");
        write.MapDelete("/subnets/{subnetId:long}/reservations", RemoveSubnetReservationAsync).WithName("RemoveDhcpReservation")
            .WithSummary("Remove a client's reservation from a subnet (?identifier_type=hw_address&identifier=…&family=4&server=ID)");
        read.MapGet("/reservations", ListGlobalReservationsAsync).WithName("ListGlobalDhcpReservations").WithSummary("The global reservations of one server (?server=ID&family=4)");
        write.MapPost("/reservations", PutGlobalReservationAsync).WithName("PutGlobalDhcpReservation").WithSummary("Add a global reservation on each of 'servers'");
        write.MapDelete("/reservations", RemoveGlobalReservationAsync).WithName("RemoveGlobalDhcpReservation").WithSummary("Remove a client's global reservation");
        read.MapGet("/options", GetOptionsAsync).WithName("GetDhcpOptions").WithSummary("The global option data of one server (?server=ID&family=4)");
        write.MapPut("/ha", SetHaAsync).WithName("SetDhcpHaPair")
            .WithSummary("Make the peers' configurations of one family an HA pair (hot-standby or load-balancing; each rendered with its own this-server-name); 200 with the pair");
        read.MapGet("/shared-networks", ListSharedNetworksAsync).WithName("ListDhcpSharedNetworks").WithSummary("The shared networks of one server's configuration (?server=ID&family=4)");
        write.MapPost("/shared-networks", CreateSharedNetworkAsync).WithName("CreateDhcpSharedNetwork")
            .WithSummary("Add a shared network (interface, options, the subnets on its link, which move into it) on each of 'servers'; 201");
        write.MapPut("/shared-networks/{name}", ReplaceSharedNetworkAsync).WithName("ReplaceDhcpSharedNetwork")
            .WithSummary("Replace a shared network on each of 'servers' (subnets it no longer names stand on their own again)");
        write.MapDelete("/shared-networks/{name}", DeleteSharedNetworkAsync).WithName("DeleteDhcpSharedNetwork")
            .WithSummary("Remove a shared network (?family=4&server=ID); its subnets stay, on their own");
        read.MapGet("/client-classes", ListClientClassesAsync).WithName("ListDhcpClientClasses").WithSummary("The client classes of one server's configuration (?server=ID&family=4)");
        write.MapPost("/client-classes", CreateClientClassAsync).WithName("CreateDhcpClientClass").WithSummary("Add a client class (test expression, options) on each of 'servers'; 201");
        write.MapPut("/client-classes/{name}", ReplaceClientClassAsync).WithName("ReplaceDhcpClientClass").WithSummary("Replace a client class on each of 'servers'");
        write.MapDelete("/client-classes/{name}", DeleteClientClassAsync).WithName("DeleteDhcpClientClass")
            .WithSummary("Remove a client class (?family=4&server=ID); 409 while a subnet, pool or reservation names it");
        write.MapDelete("/ha", DeleteHaAsync).WithName("DeleteDhcpHaPair")
            .WithSummary("Dissolve the HA pair of one server's configuration (?server=ID&family=4): every peer's configuration loses it (a push then applies it)");
        app.MapPost("/api/v1/dhcp/push", PushAsync).WithTags("DHCP").RequireAuthorization(Permissions.DhcpPush).WithName("PushDhcp")
            .WithSummary("Push the configuration of 'family' to 'servers' and their HA partners as one operation (pairs one peer at a time, standby first, each wrapped in an HA hand-over); 202 with the operation, or 400/409 naming the server, nothing started");
        write.MapPut("/options", SetOptionsAsync).WithName("SetDhcpOptions").WithSummary("Replace the global option data on each of 'servers'");
        return app;
    }

    public static async Task<Results<Ok<ItemsOf<DhcpSubnetView>>, ValidationProblem, ProblemHttpResult>> ListSubnetsAsync(IGrainFactory grains, string? server = null, int? family = null)
    {
        var errors = new FieldErrors();
        var families = family is null ? [DhcpFamily.V4, DhcpFamily.V6] : DhcpMapping.Family(family, errors) is { } f ? new[] { f } : [];
        if (await ReadServerAsync(grains, server, errors) is { } problem)
        {
            return problem;
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var items = new List<DhcpSubnetView>();
        foreach (var each in families)
        {
            if (await grains.GetGrain<IServerDhcpGrain>(server!).GetConfigAsync(each) is { } config)
            {
                items.AddRange(config.EverySubnet().OrderBy(s => s.Id).Select(s => DhcpMapping.ToView(config, s, [server!])));
            }
        }

        return TypedResults.Ok(new ItemsOf<DhcpSubnetView>(items));
    }

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem, ProblemHttpResult>> GetSubnetAsync(long subnetId, IGrainFactory grains, string? server = null, int? family = null)
    {
        var read = await ReadConfigAsync(grains, server, family);
        return read.Invalid is { } invalid ? invalid
            : read.Missing is { } missing ? missing
            : read.Config?.FindSubnet(subnetId) is { } subnet ? TypedResults.Ok(DhcpMapping.ToView(read.Config, subnet, [server!]))
            : Problem.NotFound($"server '{server}' has no DHCPv{family} subnet with id {subnetId}");
    }

    public static async Task<Results<Created<DhcpSubnetView>, ValidationProblem>> CreateSubnetAsync(DhcpSubnetRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var id = DhcpMapping.SubnetId(body.Id, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var subnet = family is { } f ? DhcpMapping.Subnet(body, f, id, errors) : null;
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var config = await EditAsync(grains, servers, family!.Value, new DhcpPutSubnet(subnet!, Create: true), errors);
        return config is null
            ? errors.ToProblem()
            : TypedResults.Created($"/api/v1/dhcp/subnets/{id}?family={body.Family}", SubnetView(config, id, servers));
    }

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> ReplaceSubnetAsync(long subnetId, DhcpSubnetRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        if (body.Id is { } bodyId && bodyId != subnetId)
        {
            errors.Add("id", $"is {bodyId} but the path names subnet {subnetId}: a subnet's id does not change (remove it and add it under the new id)");
        }

        var servers = DhcpMapping.Servers(body.Servers, errors);
        var subnet = family is { } f ? DhcpMapping.Subnet(body, f, subnetId, errors) : null;
        return await EditViewAsync(grains, servers, family, subnet is null ? null : new DhcpPutSubnet(subnet, Create: false), subnetId, errors);
    }

    public static Task<Results<NoContent, ValidationProblem>> DeleteSubnetAsync(long subnetId, IGrainFactory grains, int? family = null, string[]? server = null) =>
        RemoveAsync(grains, family, server, new DhcpRemoveSubnet(subnetId));

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> AddPoolAsync(long subnetId, DhcpPoolRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var pool = family is { } f ? DhcpMapping.Pool(body.Pool, f, errors, "pool") : null;
        return await EditViewAsync(grains, servers, family, pool is null ? null : new DhcpAddPool(subnetId, pool), subnetId, errors);
    }

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> RemovePoolAsync(long subnetId, IGrainFactory grains, string? pool = null, int? family = null, string[]? server = null)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        var servers = DhcpMapping.Servers(server, errors, "server");
        if (string.IsNullOrWhiteSpace(pool))
        {
            errors.Add("pool", "is required: the pool as the subnet lists it (first-last or a prefix)");
        }

        return await EditViewAsync(grains, servers, f, new DhcpRemovePool(subnetId, pool ?? string.Empty), subnetId, errors);
    }

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> PutSubnetReservationAsync(long subnetId, DhcpReservationRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var reservation = family is { } f ? DhcpMapping.Reservation(body, f, errors) : null;
        return await EditViewAsync(grains, servers, family, reservation is null ? null : new DhcpPutReservation(subnetId, reservation), subnetId, errors);
    }

    public static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> RemoveSubnetReservationAsync(
        long subnetId, IGrainFactory grains, string? identifier_type = null, string? identifier = null, int? family = null, string[]? server = null)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        var servers = DhcpMapping.Servers(server, errors, "server");
        var edit = RemoveReservation(subnetId, identifier_type, identifier, errors);
        return await EditViewAsync(grains, servers, f, edit, subnetId, errors);
    }

    public static Task<Results<Ok<DhcpReservationData[]>, ValidationProblem, ProblemHttpResult>> ListGlobalReservationsAsync(IGrainFactory grains, string? server = null, int? family = null) =>
        ReadAsync(grains, server, family, config => config.Reservations.Select(r => DhcpMapping.ToView(config.Family, r)).ToArray(), []);

    public static async Task<Results<Ok<DhcpReservationData[]>, ValidationProblem>> PutGlobalReservationAsync(DhcpReservationRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var reservation = family is { } f ? DhcpMapping.Reservation(body, f, errors) : null;
        if (errors.Any || await EditAsync(grains, servers, family!.Value, new DhcpPutReservation(null, reservation!), errors) is not { } config)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(config.Reservations.Select(r => DhcpMapping.ToView(config.Family, r)).ToArray());
    }

    public static async Task<Results<Ok<DhcpReservationData[]>, ValidationProblem>> RemoveGlobalReservationAsync(
        IGrainFactory grains, string? identifier_type = null, string? identifier = null, int? family = null, string[]? server = null)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        var servers = DhcpMapping.Servers(server, errors, "server");
        var edit = RemoveReservation(null, identifier_type, identifier, errors);
        if (errors.Any || await EditAsync(grains, servers, f!.Value, edit, errors) is not { } config)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(config.Reservations.Select(r => DhcpMapping.ToView(config.Family, r)).ToArray());
    }

    public static Task<Results<Ok<DhcpOptionData[]>, ValidationProblem, ProblemHttpResult>> GetOptionsAsync(IGrainFactory grains, string? server = null, int? family = null) =>
        ReadAsync(grains, server, family, config => DhcpMapping.ToView(config.Options), []);

    public static async Task<Results<Ok<DhcpOptionData[]>, ValidationProblem>> SetOptionsAsync(DhcpOptionsRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var options = DhcpMapping.Options(body.Options ?? [], errors, "options");
        if (errors.Any || await EditAsync(grains, servers, family!.Value, new DhcpSetOptions(null, options), errors) is not { } config)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(DhcpMapping.ToView(config.Options));
    }

    public static async Task<Results<Ok<DhcpHaRequest>, ValidationProblem>> SetHaAsync(DhcpHaRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        if (body.Mode is not ("hot-standby" or "load-balancing"))
        {
            errors.Add("mode", "must be hot-standby or load-balancing");
        }

        if (body.Peers is not { Count: >= 2 })
        {
            errors.Add("peers", "needs at least two peers: [{\"server\": ID, \"url\": \"http://ADDRESS:PORT/\", \"role\": \"primary\"}, …]");
        }

        var peers = new List<DhcpHaPeer>();
        for (var i = 0; i < (body.Peers?.Count ?? 0); i++)
        {
            var p = body.Peers![i];
            if (string.IsNullOrWhiteSpace(p.Server) || await grains.GetGrain<IManagedServerGrain>(p.Server).GetAsync() is not { } server)
            {
                errors.Add($"peers[{i}].server", $"'{p.Server}' is not a server");
                continue;
            }

            if (string.IsNullOrWhiteSpace(p.Url) || string.IsNullOrWhiteSpace(p.Role))
            {
                errors.Add(string.IsNullOrWhiteSpace(p.Url) ? $"peers[{i}].url" : $"peers[{i}].role", "is required");
                continue;
            }

            peers.Add(new DhcpHaPeer(server.Id, p.Name ?? server.Definition.Name, p.Url.Trim(), p.Role.Trim(), p.AutoFailover ?? true));
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var ha = new DhcpHa(body.Mode!, [.. peers], body.HeartbeatDelayMs ?? 10_000, body.MaxResponseDelayMs ?? 60_000, body.MaxAckDelayMs ?? 10_000, body.MaxUnackedClients ?? 10);
        if (await EditAsync(grains, [.. peers.Select(p => p.ServerId)], family!.Value, new DhcpSetHa(ha), errors) is null)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(body with { Peers = [.. peers.Select(p => new DhcpHaPeerData(p.ServerId, p.Url, p.Role, p.Name, p.AutoFailover))] });
    }

    public static Task<Results<Ok<ItemsOf<DhcpSharedNetworkView>>, ValidationProblem, ProblemHttpResult>> ListSharedNetworksAsync(IGrainFactory grains, string? server = null, int? family = null) =>
        ReadAsync(grains, server, family, config => new ItemsOf<DhcpSharedNetworkView>([.. config.SharedNetworks.Select(n => SharedNetworkView(config, n))]), new ItemsOf<DhcpSharedNetworkView>([]));

    public static async Task<Results<Created<DhcpSharedNetworkView>, ValidationProblem>> CreateSharedNetworkAsync(DhcpSharedNetworkRequest body, IGrainFactory grains)
    {
        var result = await PutSharedNetworkAsync(body.Name, body, grains, create: true);
        return result.View is { } view ? TypedResults.Created($"/api/v1/dhcp/shared-networks/{Uri.EscapeDataString(view.Name)}?family={view.Family}", view) : result.Problem!;
    }

    public static async Task<Results<Ok<DhcpSharedNetworkView>, ValidationProblem>> ReplaceSharedNetworkAsync(string name, DhcpSharedNetworkRequest body, IGrainFactory grains)
    {
        var result = await PutSharedNetworkAsync(name, body, grains, create: false);
        return result.View is { } view ? TypedResults.Ok(view) : result.Problem!;
    }

    public static Task<Results<NoContent, ValidationProblem>> DeleteSharedNetworkAsync(string name, IGrainFactory grains, int? family = null, string[]? server = null) =>
        RemoveAsync(grains, family, server, new DhcpRemoveSharedNetwork(name));

    public static Task<Results<Ok<ItemsOf<DhcpClientClassView>>, ValidationProblem, ProblemHttpResult>> ListClientClassesAsync(IGrainFactory grains, string? server = null, int? family = null) =>
        ReadAsync(grains, server, family, config => new ItemsOf<DhcpClientClassView>([.. config.ClientClasses.Select(c => ClassView(config.Family, c))]), new ItemsOf<DhcpClientClassView>([]));

    public static async Task<Results<Created<DhcpClientClassView>, ValidationProblem>> CreateClientClassAsync(DhcpClientClassRequest body, IGrainFactory grains)
    {
        var result = await PutClientClassAsync(body.Name, body, grains, create: true);
        return result.View is { } view ? TypedResults.Created($"/api/v1/dhcp/client-classes/{Uri.EscapeDataString(view.Name)}?family={view.Family}", view) : result.Problem!;
    }

    public static async Task<Results<Ok<DhcpClientClassView>, ValidationProblem>> ReplaceClientClassAsync(string name, DhcpClientClassRequest body, IGrainFactory grains)
    {
        var result = await PutClientClassAsync(name, body, grains, create: false);
        return result.View is { } view ? TypedResults.Ok(view) : result.Problem!;
    }

    public static Task<Results<NoContent, ValidationProblem>> DeleteClientClassAsync(string name, IGrainFactory grains, int? family = null, string[]? server = null) =>
        RemoveAsync(grains, family, server, new DhcpRemoveClientClass(name));

    /// <summary>A removal named by the route, on the servers of <c>?server=</c>: 204, or the reasons.</summary>
    private static async Task<Results<NoContent, ValidationProblem>> RemoveAsync(IGrainFactory grains, int? family, string[]? server, DhcpEdit edit)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        var servers = DhcpMapping.Servers(server, errors, "server");
        return errors.Any || await EditAsync(grains, servers, f!.Value, edit, errors) is null ? errors.ToProblem() : TypedResults.NoContent();
    }

    private static async Task<(DhcpSharedNetworkView? View, ValidationProblem? Problem)> PutSharedNetworkAsync(string? name, DhcpSharedNetworkRequest body, IGrainFactory grains, bool create)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var options = DhcpMapping.Options(body.Options ?? [], errors, "options");
        Name(name, errors);
        if (body.Subnets?.Any(id => id is < 1 or > uint.MaxValue) == true)
        {
            errors.Add("subnets", "subnet ids are between 1 and 4294967295");
        }

        var edit = new DhcpPutSharedNetwork(name?.Trim() ?? string.Empty, string.IsNullOrWhiteSpace(body.Interface) ? null : body.Interface.Trim(), options, [.. body.Subnets ?? []], create);
        if (errors.Any || await EditAsync(grains, servers, family!.Value, edit, errors) is not { } config)
        {
            return (null, errors.ToProblem());
        }

        return (SharedNetworkView(config, config.SharedNetworks.First(n => n.Name == edit.Name)), null);
    }

    private static async Task<(DhcpClientClassView? View, ValidationProblem? Problem)> PutClientClassAsync(string? name, DhcpClientClassRequest body, IGrainFactory grains, bool create)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family, errors);
        var servers = DhcpMapping.Servers(body.Servers, errors);
        var options = DhcpMapping.Options(body.Options ?? [], errors, "options");
        Name(name, errors);
        var edit = new DhcpPutClientClass(new DhcpClientClass(name?.Trim() ?? string.Empty, string.IsNullOrWhiteSpace(body.Test) ? null : body.Test.Trim(), options, null), create);
        if (errors.Any || await EditAsync(grains, servers, family!.Value, edit, errors) is not { } config)
        {
            return (null, errors.ToProblem());
        }

        return (ClassView(config.Family, config.ClientClasses.First(c => c.Name == edit.Class.Name)), null);
    }

    /// <summary>A shared network's or class's name: Kea takes any string; ours are 1–64 printable characters, no spaces at the ends.</summary>
    private static void Name(string? name, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "is required");
        }
        else if (name.Trim().Length > 64 || name.Any(char.IsControl))
        {
            errors.Add("name", "must be 1 to 64 printable characters");
        }
    }

    private static DhcpSharedNetworkView SharedNetworkView(DhcpConfig config, DhcpSharedNetwork n) =>
        new((int)config.Family, n.Name, n.Interface, DhcpMapping.ToView(n.Options), [.. n.Subnets.Select(s => s.Id)]);

    private static DhcpClientClassView ClassView(DhcpFamily family, DhcpClientClass c) => new((int)family, c.Name, c.Test, DhcpMapping.ToView(c.Options));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteHaAsync(IGrainFactory grains, string? server = null, int? family = null)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        if (await ReadServerAsync(grains, server, errors) is { } missing)
        {
            return missing;
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var partners = await grains.GetGrain<IServerDhcpGrain>(server!).GetHaPartnersAsync(f!.Value);
        if (partners.IsEmpty)
        {
            return Problem.NotFound($"the DHCPv{(int)f.Value} configuration of server '{server}' is in no HA pair");
        }

        return await EditAsync(grains, [server!, .. partners], f.Value, new DhcpSetHa(null), errors) is null ? errors.ToProblem() : TypedResults.NoContent();
    }

    public static async Task<Results<Accepted<OperationView>, ValidationProblem>> PushAsync(DhcpPushRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var family = DhcpMapping.Family(body.Family ?? 4, errors);
        ServicesEndpoints.CheckWait(body.WaitForAgentSeconds, errors);
        if (body.Servers is not { Count: > 0 })
        {
            errors.Add("servers", "is required: the ids of the DHCP servers to push to (their HA partners are added)");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var operation = await grains.GetGrain<IDhcpFleetGrain>(0).PushAsync(
            family!.Value, [.. body.Servers!], body.AcknowledgeWarnings == true, ServicesEndpoints.Wait(body.WaitForAgentSeconds));
        return TypedResults.Accepted($"/api/v1/operations/{operation.Id}", OperationsEndpoints.ToView(operation));
    }

    private static DhcpRemoveReservation RemoveReservation(long? subnetId, string? type, string? identifier, FieldErrors errors)
    {
        var kea = DhcpMapping.KeaIdentifier(type);
        if (kea is null)
        {
            errors.Add("identifier_type", "must be one of hw_address, client_id, duid, circuit_id, flex_id");
        }

        if (string.IsNullOrWhiteSpace(identifier))
        {
            errors.Add("identifier", "is required: the client's identifier as the reservation has it");
        }

        return new DhcpRemoveReservation(subnetId, kea ?? string.Empty, identifier?.Trim() ?? string.Empty);
    }

    private static async Task<Results<Ok<DhcpSubnetView>, ValidationProblem>> EditViewAsync(
        IGrainFactory grains, IReadOnlyList<string> servers, DhcpFamily? family, DhcpEdit? edit, long subnetId, FieldErrors errors)
    {
        if (errors.Any || edit is null || await EditAsync(grains, servers, family!.Value, edit, errors) is not { } config)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(SubnetView(config, subnetId, servers));
    }

    private static DhcpSubnetView SubnetView(DhcpConfig config, long subnetId, IReadOnlyList<string> servers) =>
        DhcpMapping.ToView(config, config.FindSubnet(subnetId)!, servers);

    /// <summary>A read of one server's configuration of one family: 400 naming a bad field, 404 for no such DHCP server, or the configuration (null when it has none).</summary>
    private static async Task<(DhcpConfig? Config, ValidationProblem? Invalid, ProblemHttpResult? Missing)> ReadConfigAsync(IGrainFactory grains, string? server, int? family)
    {
        var errors = new FieldErrors();
        var f = DhcpMapping.Family(family, errors);
        if (await ReadServerAsync(grains, server, errors) is { } missing)
        {
            return (null, null, missing);
        }

        return errors.Any ? (null, errors.ToProblem(), null) : (await grains.GetGrain<IServerDhcpGrain>(server!).GetConfigAsync(f!.Value), null, null);
    }

    /// <summary>A read of one server's configuration shown as <paramref name="view"/> (<paramref name="empty"/> when it has none), or 400/404 as <see cref="ReadConfigAsync"/> says.</summary>
    private static async Task<Results<Ok<T>, ValidationProblem, ProblemHttpResult>> ReadAsync<T>(IGrainFactory grains, string? server, int? family, Func<DhcpConfig, T> view, T empty)
    {
        var read = await ReadConfigAsync(grains, server, family);
        return read.Invalid is { } invalid ? invalid
            : read.Missing is { } missing ? missing
            : TypedResults.Ok(read.Config is { } config ? view(config) : empty);
    }

    /// <summary>The server a read names: 400 when it is missing, 404 when there is no such DHCP server.</summary>
    private static async Task<ProblemHttpResult?> ReadServerAsync(IGrainFactory grains, string? server, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            errors.Add("server", "is required: the id of the DHCP server whose configuration to read");
            return null;
        }

        var found = await grains.GetGrain<IManagedServerGrain>(server).GetAsync();
        return found is null || found.Definition.Kind != ServerKind.Dhcp ? Problem.NotFound($"there is no DHCP server '{server}'") : null;
    }

    /// <summary>
    /// One edit to the configuration of each of <paramref name="servers"/>: every server is checked (it exists, it is a
    /// DHCP server, the edit passes on its configuration) before any is changed. Returns the first server's configuration
    /// as changed, or null with the reasons in <paramref name="errors"/>. Not-found and conflicts are thrown with the
    /// server named when there are several.
    /// </summary>
    private static async Task<DhcpConfig?> EditAsync(IGrainFactory grains, IReadOnlyList<string> servers, DhcpFamily family, DhcpEdit edit, FieldErrors errors)
    {
        if (edit is not DhcpSetHa)
        {
            servers = await WithPartnersAsync(grains, servers, family);
        }

        foreach (var id in servers)
        {
            var server = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
            if (server is null)
            {
                errors.Add("servers", $"server '{id}' not found");
            }
            else if (server.Definition.Kind != ServerKind.Dhcp)
            {
                errors.Add("servers", $"server '{server.Definition.Name}' ({id}) is not a DHCP server");
            }
        }

        if (errors.Any)
        {
            return null;
        }

        await Task.WhenAll(servers.Select(id => Named(id, servers.Count, () => grains.GetGrain<IServerDhcpGrain>(id).EditAsync(family, edit, dryRun: true))));
        DhcpConfig? first = null;
        foreach (var id in servers)
        {
            var config = await Named(id, servers.Count, () => grains.GetGrain<IServerDhcpGrain>(id).EditAsync(family, edit));
            first ??= config;
        }

        return first;
    }

    /// <summary>The servers and their HA partners: a change to one peer of a pair is a change to both (they share one configuration).</summary>
    private static async Task<IReadOnlyList<string>> WithPartnersAsync(IGrainFactory grains, IReadOnlyList<string> servers, DhcpFamily family)
    {
        var all = new List<string>(servers);
        foreach (var id in servers)
        {
            all.AddRange((await grains.GetGrain<IServerDhcpGrain>(id).GetHaPartnersAsync(family)).Where(p => !all.Contains(p)));
        }

        return all;
    }

    /// <summary>Runs <paramref name="edit"/>; when several servers are changed, a refusal names the server it came from.</summary>
    private static async Task<DhcpConfig> Named(string server, int count, Func<Task<DhcpConfig>> edit)
    {
        try
        {
            return await edit();
        }
        catch (DomainException e) when (count > 1)
        {
            var message = $"server '{server}': {e.Message}";
            throw e switch
            {
                NotFoundException => new NotFoundException(message),
                ConflictException => new ConflictException(message) { Field = e.Field },
                _ => new DhcpConfigException(message) { Field = e.Field },
            };
        }
    }
}
