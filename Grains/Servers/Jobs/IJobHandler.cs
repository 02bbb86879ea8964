using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;

namespace ManagedServers.Grains.Servers.Jobs;

/// <summary>
/// One family of jobs of the server's workflow (the agent's <c>ICommandHandler</c> registry is the model): whether a job
/// fits the server, the agent command that carries it, and what its result means. Handlers are singletons registered
/// with <see cref="JobHandlerRegistration.AddJobHandler{T}"/>; everything per server comes through the
/// <see cref="IJobContext"/>. The workflow around them (persisting the job before its command, delivery, deadlines, the
/// step log, job events, idempotency, <c>requested_by</c>) is the grain's and is the same for every kind.
/// </summary>
public interface IJobHandler
{
    /// <summary>The job kinds this handler plans (<see cref="JobRequest.Kind"/>).</summary>
    IReadOnlyCollection<string> Kinds { get; }

    /// <summary>The agent command kinds whose results this handler takes (a job's result goes to the owner of its command).</summary>
    IReadOnlyCollection<string> CommandKinds { get; }

    /// <summary>
    /// Whether a finished job's command arguments are dropped (from the job and the command history): they may be large
    /// (inline zone files) and are only needed to recover the command after a silo loss while the job is active.
    /// </summary>
    bool DropsArgumentsWhenDone => false;

    /// <summary>A short description for the job's first step, e.g. "add service dns".</summary>
    string Describe(string kind, string? service);

    /// <summary>
    /// Checks that the job fits the server and plans its command. Throws <see cref="ConflictException"/> (it does not
    /// fit) or <see cref="NotFoundException"/> before anything is stored.
    /// </summary>
    Task<JobPlan> PlanAsync(IJobContext context, JobRequest request);

    /// <summary>
    /// The agent's successful result: record it on the job (steps, <see cref="JobEntry.ResultJson"/>, the server's
    /// services) and save what it changes in a part's state (the grain writes the job after this returns, so a replayed
    /// result finds the part's state already updated). Returns null (the job succeeds) or the error the job fails with
    /// (the agent did only part of it). Throws <see cref="System.Text.Json.JsonException"/>, <see cref="FormatException"/>
    /// or <see cref="InvalidOperationException"/> for an answer it cannot read (the job fails saying so).
    /// </summary>
    Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output);

    /// <summary>The agent failed the command: record what its answer tells (its steps, a rollback) beside the error.</summary>
    Task OnFailedAsync(IJobContext context, JobEntry job, string? output);
}

/// <summary>
/// A planned job: the <see cref="Kind"/> it runs as (a handler may turn "add" of an installed service into "update"), its
/// agent command, and steps to log after "queued" (what the plan found).
/// </summary>
public sealed record JobPlan(string Kind, string CommandKind, string? CommandArgsJson, IReadOnlyList<string> Steps);

/// <summary>The server a job handler works on, and the job operations it may use (all on the grain's turn).</summary>
public interface IJobContext
{
    string ServerId { get; }

    ServerDefinition Definition { get; }

    /// <summary>The server's services as last reported.</summary>
    IReadOnlyList<ServiceSnapshot> Services { get; }

    /// <summary>Every part of the grain (and feature of the shell) that implements <typeparamref name="T"/>.</summary>
    IEnumerable<T> Features<T>()
        where T : class;

    /// <summary>Adds a line to the job's log (and announces it on the job event stream).</summary>
    void Step(JobEntry job, string message);

    /// <summary>Logs the agent's steps the job has not logged yet (heartbeat progress may have logged the first ones).</summary>
    void AddAgentSteps(JobEntry job, IReadOnlyList<string>? steps);

    /// <summary>One service as the agent's result reports it (null: gone).</summary>
    void SetService(string kind, ServiceStatus? status);

    /// <summary>Keeps bytes the job produced (a debug bundle) in memory for a while, for <c>GetDebugBundleAsync</c>.</summary>
    void Attach(JobEntry job, byte[] bytes);
}

/// <summary>Registration of job handlers.</summary>
public static class JobHandlerRegistration
{
    /// <summary>Adds a job handler (a singleton); its kinds and command kinds must not be claimed by another handler.</summary>
    public static IServiceCollection AddJobHandler<T>(this IServiceCollection services)
        where T : class, IJobHandler
    {
        if (!services.Any(d => d.ServiceType == typeof(IJobHandler) && d.ImplementationType == typeof(T)))
        {
            services.AddSingleton<IJobHandler, T>();
        }

        services.TryAddJobHandlers();
        return services;
    }

    /// <summary>The job handlers every silo has.</summary>
    public static IServiceCollection AddJobHandlers(this IServiceCollection services) => services
        .AddJobHandler<ServiceJobHandler>()
        .AddJobHandler<DiagnosticsJobHandler>()
        .AddJobHandler<DebugBundleJobHandler>()
        .AddJobHandler<Dns.DnsApplyJobHandler>()
        .AddJobHandler<Dhcp.DhcpPushJobHandler>()
        .AddJobHandler<Dhcp.DhcpHaMaintenanceJobHandler>();

    private static void TryAddJobHandlers(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(JobHandlers)))
        {
            services.AddSingleton<JobHandlers>();
        }
    }
}

/// <summary>The registered handlers by job kind and by command kind; two handlers claiming one kind is a start-up error.</summary>
public sealed class JobHandlers
{
    private readonly Dictionary<string, IJobHandler> _byKind = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IJobHandler> _byCommand = new(StringComparer.Ordinal);

    public JobHandlers(IEnumerable<IJobHandler> handlers)
    {
        foreach (var handler in handlers)
        {
            foreach (var kind in handler.Kinds)
            {
                if (!_byKind.TryAdd(kind, handler))
                {
                    throw new InvalidOperationException($"job kind '{kind}' has two handlers: {_byKind[kind].GetType().Name} and {handler.GetType().Name}");
                }
            }

            foreach (var command in handler.CommandKinds)
            {
                if (!_byCommand.TryAdd(command, handler))
                {
                    throw new InvalidOperationException($"agent command '{command}' has two job handlers: {_byCommand[command].GetType().Name} and {handler.GetType().Name}");
                }
            }
        }
    }

    /// <summary>The kinds a job may be asked for.</summary>
    public IEnumerable<string> Kinds => _byKind.Keys;

    public IJobHandler? ForKind(string kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>Who takes a job's result: the owner of its command, else the handler of its kind.</summary>
    public IJobHandler? ForResult(JobEntry job) =>
        (job.CommandKind is { } command ? _byCommand.GetValueOrDefault(command) : null) ?? _byKind.GetValueOrDefault(job.Kind);

    /// <summary>The handler that owns an agent command kind, or null.</summary>
    public IJobHandler? ForCommand(string commandKind) => _byCommand.GetValueOrDefault(commandKind);

    public string Describe(string kind, string? service) =>
        _byKind.TryGetValue(kind, out var handler) ? handler.Describe(kind, service) : kind.Replace('_', ' ');
}
