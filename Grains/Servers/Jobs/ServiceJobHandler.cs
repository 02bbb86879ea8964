using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Jobs;

/// <summary>
/// Service jobs: add (install), update, start, stop, restart, remove a service that fits the server's kind (a DNS server
/// runs dns; a DHCP server dhcp4 and dhcp6). A part that looks after one service takes part through
/// <see cref="IServiceJobParticipant"/> (the DNS side keeps the listen entries, and applies a listen change itself).
/// </summary>
public sealed class ServiceJobHandler : IJobHandler
{
    public IReadOnlyCollection<string> Kinds { get; } =
        [JobKinds.AddService, JobKinds.UpdateService, JobKinds.StartService, JobKinds.StopService, JobKinds.RestartService, JobKinds.RemoveService];

    public IReadOnlyCollection<string> CommandKinds { get; } =
        [AgentCommands.ServiceInstall, AgentCommands.ServiceStart, AgentCommands.ServiceStop, AgentCommands.ServiceRestart, AgentCommands.ServiceRemove];

    public string Describe(string kind, string? service) => kind switch
    {
        JobKinds.AddService => $"add service {service}",
        JobKinds.UpdateService => $"update service {service}",
        JobKinds.StartService => $"start service {service}",
        JobKinds.StopService => $"stop service {service}",
        JobKinds.RestartService => $"restart service {service}",
        _ => $"remove service {service}",
    };

    public async Task<JobPlan> PlanAsync(IJobContext context, JobRequest request)
    {
        var definition = context.Definition;
        var service = request.Service ?? throw new ConflictException("a service job names its service (dns, dhcp4 or dhcp6)");
        var fits = definition.Kind switch
        {
            ServerKind.Dns => service == ServiceKinds.Dns,
            ServerKind.Dhcp => service is ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6,
            _ => false,
        };
        if (!fits)
        {
            var allowed = definition.Kind switch
            {
                ServerKind.Dns => "a DNS server runs the dns service",
                ServerKind.Dhcp => "a DHCP server runs dhcp4 and dhcp6",
                _ => "a backup server runs no DNS or DHCP service",
            };
            throw new ConflictException($"service '{service}' does not fit server '{definition.Name}': {allowed}") { Field = "kind" };
        }

        var installed = context.Services.Any(s => s.Kind == service);
        var kind = request.Kind switch
        {
            JobKinds.AddService or JobKinds.UpdateService => installed ? JobKinds.UpdateService : JobKinds.AddService,
            _ when !installed => throw new NotFoundException($"service '{service}' is not installed on server '{definition.Name}': add it first (POST /api/v1/servers/{context.ServerId}/services)"),
            _ => request.Kind,
        };

        var spec = request.Spec as ServiceJobSpec ?? new ServiceJobSpec();
        var participant = context.Features<IServiceJobParticipant>().FirstOrDefault(p => p.Service == service);
        if (kind == JobKinds.UpdateService && participant is not null && await participant.PlanUpdateAsync(context, spec) is { } own)
        {
            return own with { Kind = kind };
        }

        string Action() => JsonSerializer.Serialize(new ServiceActionArgs(service), ContractsJson.Default.ServiceActionArgs);
        return kind switch
        {
            JobKinds.AddService or JobKinds.UpdateService => Install(kind, service, definition, spec, participant),
            JobKinds.StartService => new(kind, AgentCommands.ServiceStart, Action(), []),
            JobKinds.StopService => new(kind, AgentCommands.ServiceStop, Action(), []),
            JobKinds.RestartService => new(kind, AgentCommands.ServiceRestart, Action(), []),
            _ => new(kind, AgentCommands.ServiceRemove, Action(), []),
        };
    }

    private static JobPlan Install(string kind, string service, ServerDefinition definition, ServiceJobSpec spec, IServiceJobParticipant? participant)
    {
        var args = new ServiceInstallArgs(service, ContractsJson.WireName(definition.Runtime), spec.Version, spec.ListenAddress, spec.Port, null, spec.Interfaces is { } interfaces ? [.. interfaces] : null);
        args = participant?.Install(args, spec) ?? args;
        IReadOnlyList<string> steps = kind == JobKinds.AddService && definition.Runtime == AgentRuntime.Auto
            ? ["runtime: the agent chooses (docker where its Docker engine answers, else exec); the server keeps its choice"]
            : [];
        return new JobPlan(kind, AgentCommands.ServiceInstall, JsonSerializer.Serialize(args, ContractsJson.Default.ServiceInstallArgs), steps);
    }

    public async Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var parsed = output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.ServiceCommandOutput);
        if (parsed is not null)
        {
            context.AddAgentSteps(job, parsed.Steps);
        }

        context.SetService(job.Service!, job.Kind == JobKinds.RemoveService ? null : parsed?.Service);
        foreach (var participant in context.Features<IServiceJobParticipant>().Where(p => p.Service == job.Service))
        {
            await participant.OnServiceResultAsync(job);
        }

        job.ResultJson = parsed?.Service is { } s ? JsonSerializer.Serialize(s, ContractsJson.Default.ServiceStatus) : null;
        return null;
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output)
    {
        if (output is null)
        {
            return Task.CompletedTask;
        }

        try
        {
            if (JsonSerializer.Deserialize(output, ContractsJson.Default.ServiceCommandOutput) is { } parsed)
            {
                context.AddAgentSteps(job, parsed.Steps);
            }
        }
        catch (JsonException)
        {
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// A part that looks after one service and takes part in its jobs (the DNS side for <c>dns</c>): what the install
/// arguments carry from it, an update it applies itself, and what a service job's success means to it.
/// </summary>
public interface IServiceJobParticipant
{
    /// <summary>The service kind (dns, dhcp4, dhcp6).</summary>
    string Service { get; }

    /// <summary>An update of the installed service this participant applies its own way (null: a plain install).</summary>
    Task<JobPlan?> PlanUpdateAsync(IJobContext context, ServiceJobSpec spec);

    /// <summary>The install or update arguments with what the participant adds.</summary>
    ServiceInstallArgs Install(ServiceInstallArgs args, ServiceJobSpec spec);

    /// <summary>A job of the service succeeded (its command's arguments are on the job); save what it changes.</summary>
    Task OnServiceResultAsync(JobEntry job);
}
