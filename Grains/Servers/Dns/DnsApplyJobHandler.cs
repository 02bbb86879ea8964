using ManagedServers.Grains.Servers.Jobs;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Dns;

/// <summary>
/// DNS pushes (push_config, push_zones, revert_config) and every job carried by a <c>dns.apply</c> command (a listen change
/// of the dns service too): validated, switched, reloaded, health-checked and rolled back by the agent. The DNS side of the
/// server (<see cref="IDnsApplyJobs"/>) plans the change from its state and takes the result into it.
/// </summary>
public sealed class DnsApplyJobHandler : IJobHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = [JobKinds.PushConfig, JobKinds.PushZones, JobKinds.RevertConfig];

    public IReadOnlyCollection<string> CommandKinds { get; } = [AgentCommands.DnsApply];

    /// <summary>A <c>dns.apply</c> may carry zone files inline: not kept once the job is over.</summary>
    public bool DropsArgumentsWhenDone => true;

    public string Describe(string kind, string? service) => kind switch
    {
        JobKinds.PushConfig => "push the DNS configuration",
        JobKinds.PushZones => "push the zones",
        _ => "re-apply an earlier DNS configuration",
    };

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request) => Dns(context).PlanApplyAsync(context, request);

    public Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output) => Dns(context).OnAppliedAsync(context, job, output);

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output) => Dns(context).OnApplyFailedAsync(context, job, output);

    private static IDnsApplyJobs Dns(IJobContext context) =>
        context.Features<IDnsApplyJobs>().FirstOrDefault() ?? throw new InvalidOperationException("the server grain has no DNS side");
}

/// <summary>The DNS side of a server as its <c>dns.apply</c> jobs use it.</summary>
public interface IDnsApplyJobs
{
    /// <summary>Checks the push fits (a DNS server running dns) and builds the <c>dns.apply</c> command from the server's DNS state.</summary>
    Task<JobPlan> PlanApplyAsync(IJobContext context, JobRequest request);

    /// <summary>A succeeded <c>dns.apply</c>: the new live version (saved); the error when zones were refused (the rest applied).</summary>
    Task<string?> OnAppliedAsync(IJobContext context, JobEntry job, string? output);

    /// <summary>A failed <c>dns.apply</c>: whether the agent rolled back.</summary>
    Task OnApplyFailedAsync(IJobContext context, JobEntry job, string? output);
}
