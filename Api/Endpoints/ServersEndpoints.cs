using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Broker;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Shared.Fleet;
using Microsoft.Extensions.Configuration;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/servers: the fleet.</summary>
public static partial class ServersEndpoints
{
    public static IEndpointRouteBuilder MapServersApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/servers").WithTags("Servers").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/servers").WithTags("Servers").RequireAuthorization(Permissions.ServersWrite);

        read.MapGet("/", ListAsync).WithName("ListServers").WithSummary("List servers with search, paging and sort");
        write.MapPost("/", CreateAsync).WithName("CreateServer").WithSummary("Add a managed server");
        read.MapGet("/{id}", GetAsync).WithName("GetServer").WithSummary("One server");
        write.MapPatch("/{id}", UpdateAsync).WithName("UpdateServer").WithSummary("Change a server's fields");
        write.MapDelete("/{id}", DeleteAsync).WithName("DeleteServer").WithSummary("Delete a server; its agent is refused from then on");
        write.MapGet("/{id}/setup-bundle", BundleAsync).WithName("GetSetupBundle")
            .WithSummary("Download the setup bundle: agent address, CA certificate and a new one-time enrolment token");
        write.MapPost("/{id}/ping", PingAsync).WithName("PingServer").WithSummary("Round trip through the agent's command channel");
        return app;
    }

    public static async Task<Results<Ok<PageOf<ServerView>>, ValidationProblem>> ListAsync(
        IGrainFactory grains, string? q = null, int? page = null, int? per_page = null, string? sort = null, string? state = null, string? kind = null)
    {
        var errors = new FieldErrors();
        var (pageNo, perPage) = errors.Paging(page, per_page);

        var sortText = string.IsNullOrEmpty(sort) ? "name" : sort;
        var descending = sortText.StartsWith('-');
        if (!ServerMapping.TryParse<ServerSort>(sortText.TrimStart('-', '+'), out var sortKey))
        {
            errors.Add("sort", $"unknown sort '{sort}'; use one of {ServerMapping.Choices<ServerSort>()} (prefix '-' for descending)");
        }

        var stateFilter = errors.Filter<ServerState>(state, "state");
        var kindFilter = errors.Filter<ServerKind>(kind, "kind");

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var (items, total) = await QueryFleetAsync(grains, new IndexQuery(q, sortKey, descending, pageNo * perPage, stateFilter, kindFilter), (pageNo - 1) * perPage, perPage);
        return TypedResults.Ok(new PageOf<ServerView>([.. items.Select(s => s.ToView())], total, pageNo, perPage));
    }

    /// <summary>Scatter the query to every index shard in parallel, merge the shards' top items, cut the page.</summary>
    public static async Task<(IReadOnlyList<ServerSnapshot> Items, int Total)> QueryFleetAsync(IGrainFactory grains, IndexQuery query, int skip, int take)
    {
        var results = await FleetIndex.AskAllAsync(grains, shard => shard.QueryAsync(query));
        var merged = new List<ServerSnapshot>(results.Sum(r => r.Items.Length));
        foreach (var r in results)
        {
            merged.AddRange(r.Items);
        }

        merged.Sort(ServerOrdering.Comparer(query.Sort, query.Descending));
        return (merged.Skip(skip).Take(take).ToList(), results.Sum(r => r.Total));
    }

    public static async Task<Results<Created<ServerView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateServerRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var name = body.Name?.Trim();
        ValidateName(name, errors);
        ServerKind kind = default;
        if (string.IsNullOrWhiteSpace(body.Kind))
        {
            errors.Add("kind", $"is required: one of {ServerMapping.Choices<ServerKind>()}");
        }
        else if (!ServerMapping.TryParse(body.Kind, out kind))
        {
            errors.Add("kind", $"unknown kind '{body.Kind}': use one of {ServerMapping.Choices<ServerKind>()}");
        }

        var runtime = ParseOptional(body.Runtime, AgentRuntime.Auto, "runtime", errors);
        var communication = string.IsNullOrWhiteSpace(body.Communication)
            ? await DefaultCommunicationAsync(grains)
            : ParseOptional(body.Communication, CommunicationMode.Push, "communication", errors);
        ValidatePort(body.PullPort, "pull_port", errors);
        ValidateAddress(body.Address, "address", errors);
        ValidateIp(body.MonitoringApiIp, "monitoring_api_ip", errors);
        ValidateOs(body.Os, errors);
        var serverUser = body.ServerUser?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(serverUser) && !UserNamePattern().IsMatch(serverUser))
        {
            errors.Add("server_user", "use 1 to 64 characters: a-z, 0-9, '.', '_' or '-'");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // Name claim, server user and server as one operation with its own compensation (ServerLifecycleGrain).
        var definition = new ServerDefinition(name!, kind, body.Address?.Trim() ?? string.Empty, body.Os?.Trim() ?? string.Empty, runtime, communication, body.MonitoringApiIp?.Trim() ?? string.Empty, serverUser ?? string.Empty, body.PullPort);
        var snapshot = await grains.GetGrain<IServerLifecycleGrain>(0).CreateAsync(definition);
        return TypedResults.Created($"/api/v1/servers/{snapshot.Id}", snapshot.ToView());
    }

    public static async Task<Results<Ok<ServerView>, ProblemHttpResult>> GetAsync(string id, IGrainFactory grains)
    {
        var snapshot = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
        return snapshot is null ? Problem.NotFound($"server '{id}' not found") : TypedResults.Ok(snapshot.ToView());
    }

    public static async Task<Results<Ok<ServerView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(string id, UpdateServerRequest body, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IManagedServerGrain>(id);
        var current = await grain.GetAsync();
        if (current is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var errors = new FieldErrors();
        var name = body.Name?.Trim();
        if (body.Name is not null)
        {
            ValidateName(name, errors);
        }

        AgentRuntime? runtime = body.Runtime is null ? null : ParseOptional(body.Runtime, AgentRuntime.Auto, "runtime", errors);
        CommunicationMode? communication = body.Communication is null ? null : ParseOptional(body.Communication, CommunicationMode.Push, "communication", errors);
        ValidateAddress(body.Address, "address", errors);
        ValidateIp(body.MonitoringApiIp, "monitoring_api_ip", errors);
        ValidateOs(body.Os, errors);
        ValidatePort(body.PullPort, "pull_port", errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var renamed = name is not null && !string.Equals(name, current.Definition.Name, StringComparison.OrdinalIgnoreCase);
        if (renamed && !await grains.GetGrain<IServerNameGrain>(name!.ToLowerInvariant()).TryClaimAsync(id))
        {
            return Problem.Of(409, "Conflict", $"a server named '{name}' already exists", ProblemTypes.Conflict);
        }

        var updated = await grain.UpdateAsync(new ServerPatch(name, body.Address?.Trim(), body.Os?.Trim(), runtime, communication, body.MonitoringApiIp?.Trim(), body.PullPort));
        if (renamed)
        {
            await grains.GetGrain<IServerNameGrain>(current.Definition.Name.ToLowerInvariant()).ReleaseAsync(id);
        }

        return TypedResults.Ok(updated.ToView());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, IGrainFactory grains)
    {
        await grains.GetGrain<IServerLifecycleGrain>(0).DeleteAsync(id); // unknown server: 404 from the grain
        return TypedResults.NoContent();
    }

    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> BundleAsync(
        string id, IGrainFactory grains, CertificateIssuer issuer, IConfiguration configuration, int? expires_in_seconds = null)
    {
        if (expires_in_seconds is { } seconds && (seconds < 1 || seconds > 30 * 24 * 3600))
        {
            var errors = new FieldErrors();
            errors.Add("expires_in_seconds", "must be between 1 and 2592000 (30 days)");
            return errors.ToProblem();
        }

        var grain = grains.GetGrain<IManagedServerGrain>(id);
        var server = await grain.GetAsync();
        if (server is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        var token = await grain.IssueEnrollmentTokenAsync(expires_in_seconds is { } s ? TimeSpan.FromSeconds(s) : null);
        var bundle = new SetupBundle(
            1,
            server.Id,
            server.Definition.Name,
            AgentUrlFor(server, settings, configuration),
            await issuer.GetCaPemAsync(),
            token.Token,
            token.ExpiresAt);
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(bundle, Contracts.ContractsJson.Default.SetupBundle);
        var fileName = BundleFileName(server.Definition.Name);
        return TypedResults.File(bytes, "application/json", fileName);
    }

    public static async Task<Results<Ok<PingResult>, ProblemHttpResult>> PingAsync(string id, IGrainFactory grains, TimeProvider time)
    {
        var (server, offline) = await AgentQuery.ReachableAsync(grains, id);
        if (offline is not null)
        {
            return offline;
        }

        var started = time.GetTimestamp();
        var (status, timeout) = await AgentQuery.AskAsync(grains, server!, CommandKinds.Ping, null);
        var rtt = time.GetElapsedTime(started).TotalMilliseconds;
        if (timeout is not null)
        {
            return timeout;
        }

        return status.State == CommandState.Succeeded
            ? TypedResults.Ok(new PingResult(id, true, rtt, ReadAgentVersion(status.OutputJson), null))
            : TypedResults.Ok(new PingResult(id, false, rtt, null, status.Error));
    }

    /// <summary>403 when an agent posts for another server than the one its certificate is for; null when it posts for its own.</summary>
    public static ProblemHttpResult? ForeignPost(ClaimsPrincipal agent, string claimedServerId)
    {
        var serverId = ServerIdOf(agent)!;
        return string.Equals(claimedServerId, serverId, StringComparison.Ordinal)
            ? null
            : Problem.Forbidden($"this agent speaks for server '{serverId}' and may not post for '{claimedServerId}'");
    }

    /// <summary>Agents use the server's monitoring API IP, else the global one, else the listener's own address.</summary>
    public static string AgentUrlFor(ServerSnapshot server, MonitoringSettings settings, IConfiguration configuration)
    {
        var (listenerHost, port) = AgentEndpointConfig.DefaultAgentAddress(configuration);
        var host = !string.IsNullOrEmpty(server.Definition.MonitoringApiIp) ? server.Definition.MonitoringApiIp
            : !string.IsNullOrEmpty(settings.MonitoringApiIp) ? settings.MonitoringApiIp
            : listenerHost;
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = $"[{host}]";
        }

        return $"https://{host}:{port}";
    }

    private static string? ReadAgentVersion(string? outputJson)
    {
        if (outputJson is null)
        {
            return null;
        }

        var output = System.Text.Json.JsonSerializer.Deserialize(outputJson, Contracts.ContractsJson.Default.PingOutput);
        return output?.AgentVersion;
    }

    private static void ValidateName(string? name, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "is required");
        }
        else if (!NamePattern().IsMatch(name))
        {
            errors.Add("name", "use 1 to 64 characters: letters, digits, spaces, '.', '_' or '-', starting with a letter or digit");
        }
    }

    private static void ValidateOs(string? os, FieldErrors errors)
    {
        if (os is not null && os.Length > 64)
        {
            errors.Add("os", "at most 64 characters");
        }
    }

    private static void ValidateAddress(string? address, string field, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return;
        }

        var a = address.Trim();
        if (!IPAddress.TryParse(a, out _) && Uri.CheckHostName(a) != UriHostNameType.Dns)
        {
            errors.Add(field, $"'{address}' is neither an IP address nor a host name");
        }
    }

    /// <summary>
    /// The communication of a server created without one: RabbitMQ's default_communication when it names a mode
    /// other than push (amqp, as before; or pull), else the monitoring settings' communication (push or pull).
    /// </summary>
    internal static async Task<CommunicationMode> DefaultCommunicationAsync(IGrainFactory grains)
    {
        var rabbit = (await grains.GetGrain<IRabbitMqSettingsGrain>(GrainBrokerSettingsSource.RabbitMqSettingsKey).GetAsync()).DefaultCommunication;
        return rabbit != CommunicationMode.Push ? rabbit : (await grains.GetGrain<IMonitoringSettingsGrain>("monitoring").GetAsync()).Communication;
    }

    private static void ValidatePort(int? port, string field, FieldErrors errors)
    {
        if (port is { } p && (p < 1 || p > 65535))
        {
            errors.Add(field, $"{p} is not a port: use 1 to 65535");
        }
    }

    private static void ValidateIp(string? address, string field, FieldErrors errors)
    {
        if (!string.IsNullOrWhiteSpace(address) && !IPAddress.TryParse(address.Trim(), out _))
        {
            errors.Add(field, $"'{address}' is not an IP address");
        }
    }

    private static T ParseOptional<T>(string? text, T fallback, string field, FieldErrors errors)
        where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (ServerMapping.TryParse<T>(text, out var value))
        {
            return value;
        }

        errors.Add(field, $"unknown value '{text}': use one of {ServerMapping.Choices<T>()}");
        return fallback;
    }

    /// <summary>The setup bundle's file name for a server (the download's, and the one the install command names).</summary>
    public static string BundleFileName(string serverName) => $"{SafeFileName(serverName)}.bundle.json";

    private static string SafeFileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));

    internal static string? ServerIdOf(ClaimsPrincipal user) => user.FindFirst(AuthNames.ServerIdClaim)?.Value;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-z0-9._-]{1,64}$")]
    internal static partial Regex UserNamePattern();
}
