using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/servers/{id}/services, /diagnostics and /debug-bundle: actions on a server, each run as a job of the server's
/// persisted workflow (202 with the job; follow it at /api/v1/jobs/{job_id}). An <c>Idempotency-Key</c> header makes a
/// retried request return the job the first one started instead of starting another.
/// </summary>
public static partial class ServicesEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";
    private static readonly string[] Actions = ["start", "stop", "restart"];

    public static IEndpointRouteBuilder MapServicesApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/servers/{id}").WithTags("Services").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/servers/{id}").WithTags("Services").RequireAuthorization(Permissions.ServicesManage);
        read.MapGet("/services", ListAsync).WithName("ListServices").WithSummary("The server's services: state, since, restarts, version");
        write.MapPost("/services", AddAsync).WithName("AddService")
            .WithSummary("Install a service (dns, dhcp4, dhcp6), update an installed one to another version, or change an installed dns service's listen entries (applied like a push: a new configuration version) (202: a job)");
        write.MapPost("/services/{service}/{action}", ManageAsync).WithName("ManageService")
            .WithSummary("Start, stop or restart a service (202: a job)");
        write.MapDelete("/services/{service}", RemoveAsync).WithName("RemoveService")
            .WithSummary("Stop and remove a service; its data directory stays on the host (202: a job)");
        write.MapPost("/diagnostics", DiagnosticsAsync).WithName("RunDiagnostics")
            .WithSummary("Run the agent's checks: services answering, disk, clock, certificate, control plane, broker, Docker (202: a job)");
        write.MapGet("/debug-bundle", DebugBundleAsync).WithName("GetDebugBundle")
            .WithSummary("A tar.gz from the agent: bounded logs, redacted configs, versions, last diagnostics");
        return app;
    }

    public static async Task<Results<Ok<ServiceView[]>, ProblemHttpResult>> ListAsync(string id, IGrainFactory grains)
    {
        var server = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
        return server is null
            ? Problem.NotFound($"server '{id}' not found")
            : TypedResults.Ok(server.Services.IsDefault ? [] : server.Services.Select(JobMapping.ToView).ToArray());
    }

    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> AddAsync(
        string id, AddServiceRequest body, HttpRequest request, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        CheckKind(body.Kind, "kind", errors);
        if (body.Version is { } version && !VersionPattern().IsMatch(version))
        {
            errors.Add("version", "must be 1–64 characters: letters, digits, '.', '-', '_', '+', starting with a letter or digit (e.g. 3.2.6-ms1)");
        }

        if (body.ListenAddress is { } listen && !IPAddress.TryParse(listen, out _))
        {
            errors.Add("listen_address", $"'{listen}' is not an IPv4 or IPv6 address");
        }

        if (body.Port is < 1 or > 65535)
        {
            errors.Add("port", "must be between 1 and 65535");
        }

        var listenEntries = ReadListen(body, errors);
        var interfaces = ReadInterfaces(body, errors);

        var key = IdempotencyKey(request, errors);
        CheckWait(body.WaitForAgentSeconds, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var spec = new ServiceJobSpec(string.IsNullOrEmpty(body.Version) ? null : body.Version, body.ListenAddress, body.Port, listenEntries, interfaces);
        return await StartAsync(grains, id, new JobRequest(JobKinds.AddService, body.Kind, spec, key, Wait(body.WaitForAgentSeconds)));
    }

    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> ManageAsync(
        string id, string service, string action, HttpRequest request, IGrainFactory grains, JobOptionsRequest? body = null)
    {
        var errors = new FieldErrors();
        CheckKind(service, "service", errors);
        if (!Actions.Contains(action))
        {
            errors.Add("action", $"unknown action '{action}': use one of {string.Join(", ", Actions)}");
        }

        var key = IdempotencyKey(request, errors);
        CheckWait(body?.WaitForAgentSeconds, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var kind = action switch
        {
            "start" => JobKinds.StartService,
            "stop" => JobKinds.StopService,
            _ => JobKinds.RestartService,
        };
        return await StartAsync(grains, id, new JobRequest(kind, service, IdempotencyKey: key, WaitForAgent: Wait(body?.WaitForAgentSeconds)));
    }

    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> RemoveAsync(
        string id, string service, HttpRequest request, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        CheckKind(service, "service", errors);
        var key = IdempotencyKey(request, errors);
        return errors.Any ? errors.ToProblem() : await StartAsync(grains, id, new JobRequest(JobKinds.RemoveService, service, IdempotencyKey: key));
    }

    public static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> DiagnosticsAsync(
        string id, HttpRequest request, IGrainFactory grains, JobOptionsRequest? body = null)
    {
        var errors = new FieldErrors();
        var key = IdempotencyKey(request, errors);
        CheckWait(body?.WaitForAgentSeconds, errors);
        return errors.Any
            ? errors.ToProblem()
            : await StartAsync(grains, id, new JobRequest(JobKinds.Diagnostics, IdempotencyKey: key, WaitForAgent: Wait(body?.WaitForAgentSeconds)));
    }

    /// <summary>
    /// Starts a debug-bundle job (or follows <paramref name="job"/>), waits up to <paramref name="timeout_seconds"/> for it and
    /// answers the tar.gz; a bundle that takes longer answers 202 with the job and a Location to fetch it with <c>?job=</c>.
    /// An offline agent is a clear 409 at once: the bundle comes from the agent.
    /// </summary>
    public static async Task<IResult> DebugBundleAsync(
        string id, IGrainFactory grains, TimeProvider time, string? job = null, int? timeout_seconds = null, CancellationToken cancellationToken = default)
    {
        var errors = new FieldErrors();
        if (timeout_seconds is < 0 or > 600)
        {
            errors.Add("timeout_seconds", "must be between 0 and 600");
        }

        if (job is not null && JobIds.ServerOf(job) != id)
        {
            errors.Add("job", $"'{job}' is not a job of server '{id}'");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var server = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
        if (server is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var jobs = grains.GetGrain<IServerJobsGrain>(id);
        JobSnapshot? snapshot;
        if (job is null)
        {
            if (server.State != ServerState.Running)
            {
                var since = server.LastHeartbeat is { } last ? $"last heartbeat {last.ToString("u", CultureInfo.InvariantCulture)}" : "it never sent a heartbeat";
                return Problem.Of(
                    409,
                    "Agent offline",
                    $"server '{server.Definition.Name}' is {ServerMapping.Wire(server.State)} ({since}): a debug bundle is made by its agent, which must be online. Start the agent (systemctl start managedservers-agent) and try again",
                    ProblemTypes.AgentOffline);
            }

            snapshot = await jobs.StartJobAsync(new JobRequest(JobKinds.DebugBundle, WaitForAgent: TimeSpan.FromSeconds(30)));
        }
        else
        {
            snapshot = await jobs.GetJobAsync(job);
            if (snapshot is null || snapshot.Kind != JobKinds.DebugBundle)
            {
                return Problem.NotFound($"debug-bundle job '{job}' not found on server '{id}'");
            }
        }

        snapshot = await JobWaiting.UntilFinishedAsync(jobs, snapshot, TimeSpan.FromSeconds(timeout_seconds ?? 120), time, cancellationToken);
        if (!snapshot.Finished)
        {
            return TypedResults.Accepted($"/api/v1/servers/{id}/debug-bundle?job={Uri.EscapeDataString(snapshot.Id)}", snapshot.ToView());
        }

        if (snapshot.State == JobState.Failed)
        {
            return Problem.Of(502, "Debug bundle failed", $"job {snapshot.Id}: {snapshot.Error}", ProblemTypes.AgentOffline);
        }

        var bytes = await jobs.GetDebugBundleAsync(snapshot.Id);
        if (bytes is null)
        {
            return Problem.Of(410, "Debug bundle gone", $"the bundle of job {snapshot.Id} is no longer held (bundles are kept 15 minutes in memory, and not across a silo restart); ask for a new one", ProblemTypes.NotFound);
        }

        var name = $"debug-{FileSafe().Replace(server.Definition.Name, "_")}-{(snapshot.FinishedAt ?? time.GetUtcNow()).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.tar.gz";
        return TypedResults.File(bytes, "application/gzip", name);
    }

    /// <summary>Starts the job; an unknown server is the grain's NotFoundException (404 through the domain exception handler).</summary>
    internal static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> StartAsync(IGrainFactory grains, string id, JobRequest request)
    {
        var job = await grains.GetGrain<IServerJobsGrain>(id).StartJobAsync(request);
        var view = job.ToView();
        return TypedResults.Accepted($"/api/v1/jobs/{Uri.EscapeDataString(job.Id)}", view);
    }

    /// <summary>A DNS service's listen entries (<c>address@port</c>), canonical; null when the request names none.</summary>
    /// <summary>Most interfaces a DHCP service takes.</summary>
    public const int MaxInterfaces = 64;

    /// <summary>A DHCP service's interfaces: <c>name</c> or <c>name/address</c> (Linux names: up to 15 characters), or <c>*</c>.</summary>
    private static ImmutableArray<string>? ReadInterfaces(AddServiceRequest body, FieldErrors errors)
    {
        if (body.Interfaces is not { } names)
        {
            return null;
        }

        if (body.Kind is not (ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6))
        {
            errors.Add("interfaces", "only a dhcp4 or dhcp6 service takes interfaces");
            return null;
        }

        if (names.Count > MaxInterfaces)
        {
            errors.Add("interfaces", $"must hold at most {MaxInterfaces} interfaces");
            return null;
        }

        for (var i = 0; i < names.Count; i++)
        {
            var parts = (names[i] ?? string.Empty).Split('/', 2);
            if (names[i] != "*" && (!InterfaceName().IsMatch(parts[0]) || (parts.Length == 2 && !IPAddress.TryParse(parts[1], out _))))
            {
                errors.Add($"interfaces[{i}]", $"'{names[i]}' is not an interface name (1-15 letters, digits, '.', '-', '_', ':'), name/address, or *");
            }
        }

        return [.. names];
    }

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,15}$")]
    private static partial Regex InterfaceName();

    private static ImmutableArray<string>? ReadListen(AddServiceRequest body, FieldErrors errors)
    {
        if (body.Listen is not { } entries)
        {
            return null;
        }

        if (body.Kind != ServiceKinds.Dns)
        {
            errors.Add("listen", "only a dns service takes listen entries");
            return null;
        }

        if (body.ListenAddress is not null || body.Port is not null)
        {
            errors.Add("listen", "give either listen or listen_address/port, not both");
        }

        if (entries.Count is 0 or > DnsListen.MaxEntries)
        {
            errors.Add("listen", $"must hold 1 to {DnsListen.MaxEntries} entries like \"127.0.0.1@15353\" (leave it out for port 53 on all addresses)");
            return null;
        }

        var canonical = new List<string>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            if (DnsListen.TryParse(entries[i], out var entry, out _, out var error))
            {
                canonical.Add(entry);
            }
            else
            {
                errors.Add($"listen[{i}]", error!);
            }
        }

        return [.. canonical.Distinct(StringComparer.Ordinal)];
    }

    private static void CheckKind(string? kind, string field, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(kind))
        {
            errors.Add(field, $"is required: one of {string.Join(", ", ServiceKinds.All)}");
        }
        else if (!ServiceKinds.IsKnown(kind))
        {
            errors.Add(field, $"unknown service '{kind}': use one of {string.Join(", ", ServiceKinds.All)}");
        }
    }

    internal static void CheckWait(int? seconds, FieldErrors errors)
    {
        if (seconds is < 1 or > 86_400)
        {
            errors.Add("wait_for_agent_seconds", "must be between 1 and 86400");
        }
    }

    internal static TimeSpan? Wait(int? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;

    internal static string? IdempotencyKey(HttpRequest request, FieldErrors errors)
    {
        if (!request.Headers.TryGetValue(IdempotencyHeader, out var values))
        {
            return null;
        }

        var key = values.ToString();
        if (key.Length is 0 or > 200 || key.Any(c => c < 0x21 || c > 0x7e))
        {
            errors.Add(IdempotencyHeader, "must be 1–200 visible ASCII characters (e.g. a UUID)");
            return null;
        }

        return key;
    }

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex("[^0-9A-Za-z._-]")]
    private static partial Regex FileSafe();
}
