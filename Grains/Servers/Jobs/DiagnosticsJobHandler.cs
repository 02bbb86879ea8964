using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using AgentCommands = ManagedServers.Contracts.Agent.CommandKinds;

namespace ManagedServers.Grains.Servers.Jobs;

/// <summary>Diagnostics: the agent runs its checks; the job's result is the report, and a step counts pass/warn/fail.</summary>
public sealed class DiagnosticsJobHandler : IJobHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = [JobKinds.Diagnostics];

    public IReadOnlyCollection<string> CommandKinds { get; } = [AgentCommands.Diagnostics];

    public string Describe(string kind, string? service) => "run diagnostics";

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request) =>
        Task.FromResult(new JobPlan(JobKinds.Diagnostics, AgentCommands.Diagnostics, null, []));

    public Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var report = output is null ? null : JsonSerializer.Deserialize(output, ContractsJson.Default.DiagnosticsReport)
            ?? throw new InvalidOperationException("no report");
        if (report is not null)
        {
            int Count(string status) => report.Checks.Count(c => c.Status == status);
            context.Step(job, $"{report.Checks.Count} checks: {Count(CheckStatuses.Pass)} pass, {Count(CheckStatuses.Warn)} warn, {Count(CheckStatuses.Fail)} fail");
        }

        job.ResultJson = output;
        return Task.FromResult<string?>(null);
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output) => Task.CompletedTask;
}
