using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Jobs;

/// <summary>
/// A debug bundle: the agent sends a bounded tar.gz; the grain holds the bytes in memory for a while (not persisted) and
/// the job's result describes it (files, size, truncation).
/// </summary>
public sealed class DebugBundleJobHandler : IJobHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = [JobKinds.DebugBundle];

    public IReadOnlyCollection<string> CommandKinds { get; } = [AgentCommands.DebugBundle];

    public string Describe(string kind, string? service) => "collect a debug bundle";

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request) => Task.FromResult(new JobPlan(
        JobKinds.DebugBundle,
        AgentCommands.DebugBundle,
        JsonSerializer.Serialize(new DebugBundleArgs(), ContractsJson.Default.DebugBundleArgs),
        []));

    public Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var bundle = (output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.DebugBundleOutput))
            ?? throw new InvalidOperationException("no bundle");
        var bytes = Convert.FromBase64String(bundle.BundleBase64);
        context.Attach(job, bytes);
        context.Step(job, $"bundle of {bytes.Length:N0} bytes, {bundle.Files.Count} files{(bundle.Truncated ? ", truncated to stay within bounds" : string.Empty)}");
        job.ResultJson = JsonSerializer.Serialize(bundle with { BundleBase64 = string.Empty }, ContractsJson.Default.DebugBundleOutput);
        return Task.FromResult<string?>(null);
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output) => Task.CompletedTask;
}
