using System.Text.Json;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Servers;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts.Versions;

namespace ManagedServers.Grains.Tests;

/// <summary>The echo job's spec: a type of this test project, carried polymorphically in <see cref="JobRequest.Spec"/>.</summary>
[GenerateSerializer, Immutable, Alias("test.EchoSpec")]
public sealed record EchoSpec([property: Id(0)] string Text, [property: Id(1)] int Times) : JobSpec;

/// <summary>
/// A job handler the product does not ship: "echo" jobs carried by an "echo.apply" command, announcing the next
/// configuration version of the "echo" service and recording what the agent said as a version when it succeeds.
/// </summary>
public sealed class EchoJobHandler : IJobHandler
{
    public const string Kind = "echo";
    public const string Command = "echo.apply";

    public IReadOnlyCollection<string> Kinds { get; } = [Kind];

    public IReadOnlyCollection<string> CommandKinds { get; } = [Command];

    public string Describe(string kind, string? service) => "echo";

    public Task<JobPlan> PlanAsync(IJobContext context, JobRequest request)
    {
        var spec = request.Spec as EchoSpec ?? throw new ConflictException("an echo job needs an EchoSpec");
        if (string.IsNullOrEmpty(spec.Text))
        {
            throw new ConflictException("nothing to echo") { Field = "text" };
        }

        var version = context.Features<IConfigVersions>().Single().NextNumber(Kind);
        var args = JsonSerializer.Serialize(new { text = spec.Text, times = spec.Times, version });
        return Task.FromResult(new JobPlan(Kind, Command, args, [$"plan: the agent says '{spec.Text}' {spec.Times} times"]));
    }

    public async Task<string?> OnSucceededAsync(IJobContext context, JobEntry job, string? output)
    {
        var said = JsonDocument.Parse(output ?? "{}").RootElement.GetProperty("said").GetString() ?? string.Empty;
        context.Step(job, $"agent said: {said}");
        job.ResultJson = output;
        var times = JsonDocument.Parse(job.CommandArgsJson ?? "{}").RootElement.GetProperty("times").GetInt32();
        await context.Features<IConfigVersions>().Single().RecordAppliedAsync(Kind, job.Id, said, job.CommandArgsJson ?? "{}", times);
        return null;
    }

    public Task OnFailedAsync(IJobContext context, JobEntry job, string? output)
    {
        if (output is not null && JsonDocument.Parse(output).RootElement.TryGetProperty("rolled_back", out var rolledBack) && rolledBack.GetBoolean())
        {
            context.Step(job, "echo rolled back");
        }

        return Task.CompletedTask;
    }
}
