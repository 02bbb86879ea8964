using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts.Dhcp;
using ManagedServers.Grains.Servers.Parts.Versions;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Dhcp;

/// <summary>
/// DHCP pushes: the server's configuration of one family, reviewed (errors refuse the job; warnings refuse it unless
/// acknowledged), rendered and carried by one <c>dhcp.apply</c> command announcing the next config version of the
/// service. The agent tests it with the running Kea, switches it atomically, sets it, health-checks it and rolls back by
/// itself; what it reports live is recorded as a version (the rendered document, the model as JSON, the subnet count).
/// </summary>
public sealed class DhcpPushJobHandler : IJobHandler
{
    private static readonly JsonSerializerOptions ModelJson = new(JsonSerializerDefaults.Web);

    public IReadOnlyCollection<string> Kinds { get; } = [JobKinds.DhcpPush];

    public IReadOnlyCollection<string> CommandKinds { get; } = [AgentCommands.DhcpApply];

    /// <summary>The document can be large (100,000 reservations): not kept once the job is over (the version keeps it).</summary>
    public bool DropsArgumentsWhenDone => true;

    public string Describe(string kind, string? service) => $"push the DHCP configuration to {service}";

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request)
    {
        var spec = request.Spec as DhcpPushSpec ?? throw new ConflictException("a DHCP push needs a DhcpPushSpec");
        var service = Service(spec.Family);
        if (context.Definition.Kind != ServerKind.Dhcp)
        {
            throw new ConflictException($"server '{context.ServerId}' is a {context.Definition.Kind.ToString().ToLowerInvariant()} server, not a DHCP server");
        }

        if (!context.Services.Any(s => s.Kind == service))
        {
            throw new ConflictException($"server '{context.ServerId}' has no {service} service: add it first") { Field = "family" };
        }

        var config = context.Features<IDhcpConfigs>().Single().Get(spec.Family)
            ?? throw new ConflictException($"server '{context.ServerId}' has no DHCPv{(int)spec.Family} configuration: import one or add subnets first") { Field = "family" };
        var findings = DhcpReview.Review(config, context.ServerId);
        var errors = findings.Where(f => f.Severity == DhcpSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            throw new ConflictException($"the review found {errors.Count} error(s): {Describe(errors)}");
        }

        var warnings = findings.Where(f => f.Severity == DhcpSeverity.Warning).ToList();
        if (warnings.Count > 0 && !spec.AcknowledgeWarnings)
        {
            throw new ConflictException($"the review found {warnings.Count} warning(s), not acknowledged: {Describe(warnings)}") { Field = "acknowledge_warnings" };
        }

        var version = context.Features<IConfigVersions>().Single().NextNumber(service);
        var args = new DhcpApplyArgs(service, version, KeaRender.Render(config, context.ServerId));
        var steps = new List<string> { $"review: {config.EverySubnet().Count()} subnets, no errors" + (warnings.Count > 0 ? $", {warnings.Count} warning(s) acknowledged" : string.Empty) };
        steps.AddRange(warnings.Take(20).Select(w => $"warning: {w.Object} {w.Message}"));
        steps.Add($"version {version} rendered ({args.Document.Length:N0} bytes)");
        return Task.FromResult(new JobPlan(JobKinds.DhcpPush, AgentCommands.DhcpApply, JsonSerializer.Serialize(args, ContractsJson.Default.DhcpApplyArgs), steps));
    }

    public async Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var result = JsonSerializer.Deserialize(output ?? throw new InvalidOperationException("dhcp.apply answered no output"), ContractsJson.Default.DhcpApplyOutput)
            ?? throw new InvalidOperationException("dhcp.apply answered an empty output");
        context.AddAgentSteps(job, result.Steps);
        job.ResultJson = output;
        var args = JsonSerializer.Deserialize(job.CommandArgsJson ?? throw new InvalidOperationException("the job's command arguments are gone"), ContractsJson.Default.DhcpApplyArgs)!;
        var family = args.Service == ServiceKinds.Dhcp6 ? DhcpFamily.V6 : DhcpFamily.V4;
        var model = context.Features<IDhcpConfigs>().Single().Get(family);
        var (number, changed) = await context.Features<IConfigVersions>().Single().RecordAppliedAsync(
            args.Service, job.Id, args.Document, model is null ? "{}" : JsonSerializer.Serialize(model, ModelJson), result.Subnets.Count);
        context.Step(job, changed ? $"{args.Service} configuration version {number} is live ({result.Subnets.Count} subnets)" : $"{args.Service} configuration version {number} stays live (unchanged)");
        return null;
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output)
    {
        if (output is not null && JsonSerializer.Deserialize(output, ContractsJson.Default.DhcpApplyOutput) is { } result)
        {
            context.AddAgentSteps(job, result.Steps);
            if (result.RolledBack)
            {
                context.Step(job, "the agent rolled back: Kea serves the previous configuration");
            }
        }

        return Task.CompletedTask;
    }

    public static string Service(DhcpFamily family) => family == DhcpFamily.V6 ? ServiceKinds.Dhcp6 : ServiceKinds.Dhcp4;

    private static string Describe(List<DhcpFinding> findings) =>
        string.Join("; ", findings.Take(5).Select(f => $"{f.Object} {f.Message}")) + (findings.Count > 5 ? $"; and {findings.Count - 5} more" : string.Empty);
}
