using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Servers.Jobs;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Dhcp;

/// <summary>
/// HA hand-overs: the job a pair push sends to the partner of the peer it changes, before (this server takes the whole
/// service: <c>ha-maintenance-start</c>) and after (<c>ha-maintenance-cancel</c>). The agent's <c>dhcp.ha_maintenance</c>
/// does it; nothing to hand over (no HA hook running yet, no maintenance to cancel) succeeds, saying so.
/// </summary>
public sealed class DhcpHaMaintenanceJobHandler : IJobHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = [JobKinds.DhcpHaMaintenance];

    public IReadOnlyCollection<string> CommandKinds { get; } = [AgentCommands.DhcpHaMaintenance];

    public string Describe(string kind, string? service) => $"HA hand-over of {service}";

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request)
    {
        var spec = request.Spec as DhcpHaMaintenanceSpec ?? throw new ConflictException("an HA hand-over needs a DhcpHaMaintenanceSpec");
        var service = DhcpPushJobHandler.Service(spec.Family);
        if (!context.Services.Any(s => s.Kind == service))
        {
            throw new ConflictException($"server '{context.ServerId}' has no {service} service") { Field = "family" };
        }

        var args = new DhcpHaMaintenanceArgs(service, spec.Start);
        string[] steps = [spec.Start ? "this server takes the pair's whole service while its partner changes (ha-maintenance-start)" : "the partner is back: the pair shares the service again (ha-maintenance-cancel)"];
        return Task.FromResult(new JobPlan(JobKinds.DhcpHaMaintenance, AgentCommands.DhcpHaMaintenance, JsonSerializer.Serialize(args, ContractsJson.Default.DhcpHaMaintenanceArgs), steps));
    }

    public Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var result = JsonSerializer.Deserialize(output ?? throw new InvalidOperationException("dhcp.ha_maintenance answered no output"), ContractsJson.Default.DhcpHaMaintenanceOutput)
            ?? throw new InvalidOperationException("dhcp.ha_maintenance answered an empty output");
        context.Step(job, $"Kea: {result.Message}" + (result.HaState is { } state ? $" (HA state now {state})" : string.Empty));
        job.ResultJson = output;
        return Task.FromResult<string?>(null);
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output) => Task.CompletedTask;
}
