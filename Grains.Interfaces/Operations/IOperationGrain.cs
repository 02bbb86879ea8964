using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Operations;

/// <summary>
/// One operation over several servers (a DHCP push to a group or an HA pair): an ordered plan of jobs, each on its own
/// server's workflow, run stage by stage (the jobs of a stage side by side), with a result per server. The operation
/// grain (key: the operation id) drives the plan from its own timer and a reminder, so a silo lost mid-way resumes it
/// elsewhere; each job is started with the idempotency key <c>{operation id}/{step}</c>, so a step is never run twice.
/// A step that fails skips the later steps of its group (a pair, or one server) except those that must always run (a
/// hand-back); other groups go on.
/// </summary>
[Alias("ms.IOperationGrain")]
public interface IOperationGrain : IGrainWithStringKey
{
    /// <summary>Starts the plan (the caller is recorded as its requester), or returns the operation when it was started before.</summary>
    Task<OperationSnapshot> StartAsync(OperationPlan plan);

    /// <summary>The operation, or null when no operation has this id.</summary>
    [ReadOnly]
    Task<OperationSnapshot?> GetAsync();
}

/// <summary>What an operation does: its <see cref="Kind"/> (e.g. <c>dhcp_push</c>), a one-line summary, its steps.</summary>
[GenerateSerializer, Immutable, Alias("ms.OperationPlan")]
public sealed record OperationPlan(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Summary,
    [property: Id(2)] ImmutableArray<OperationStep> Steps);

/// <summary>
/// One job of a plan: run at <see cref="Stage"/> (lower stages first; one stage's steps side by side), belonging to
/// <see cref="Group"/> (a failure stops the group's later steps), on <see cref="ServerId"/>, described by <see cref="Label"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.OperationStep")]
public sealed record OperationStep(
    [property: Id(0)] int Stage,
    [property: Id(1)] string Group,
    [property: Id(2)] string ServerId,
    [property: Id(3)] string Label,
    [property: Id(4)] JobRequest Job,
    [property: Id(5)] OperationStepMode Mode = OperationStepMode.Required);

/// <summary>How a step's failure counts.</summary>
public enum OperationStepMode
{
    /// <summary>Its failure fails its server's result and skips its group's later steps.</summary>
    Required,

    /// <summary>Its failure is reported and the group goes on (an HA hand-over the partner could not take).</summary>
    BestEffort,

    /// <summary>
    /// Runs even after a failure in its group (an HA hand-back), unless the group's earlier step on the same server (its
    /// hand-over) was skipped; its failure fails the operation (the pair is left with one peer in charge).
    /// </summary>
    Always,
}

public enum OperationState
{
    Running,
    Succeeded,
    Failed,
}

public enum OperationStepState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

/// <summary>A step as it stands: its job (once started), its state, and why it failed or was skipped.</summary>
[GenerateSerializer, Immutable, Alias("ms.OperationStepSnapshot")]
public sealed record OperationStepSnapshot(
    [property: Id(0)] int Stage,
    [property: Id(1)] string Group,
    [property: Id(2)] string ServerId,
    [property: Id(3)] string Label,
    [property: Id(4)] string JobKind,
    [property: Id(5)] OperationStepMode Mode,
    [property: Id(6)] OperationStepState State,
    [property: Id(7)] string? JobId,
    [property: Id(8)] string? Error);

/// <summary>
/// One server's result: from its required steps (failed when one failed, skipped when one was skipped, succeeded when all
/// did), with the first error.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.OperationServerResult")]
public sealed record OperationServerResult(
    [property: Id(0)] string ServerId,
    [property: Id(1)] OperationStepState State,
    [property: Id(2)] string? Error);

/// <summary>An operation as callers see it; <see cref="Version"/> rises with every change.</summary>
[GenerateSerializer, Immutable, Alias("ms.OperationSnapshot")]
public sealed record OperationSnapshot(
    [property: Id(0)] string Id,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Summary,
    [property: Id(3)] OperationState State,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? FinishedAt,
    [property: Id(6)] string RequestedBy,
    [property: Id(7)] ImmutableArray<OperationStepSnapshot> Steps,
    [property: Id(8)] ImmutableArray<OperationServerResult> Servers,
    [property: Id(9)] long Version)
{
    public bool Finished => State != OperationState.Running;
}

/// <summary>Operation ids: <c>op-</c> and 20 hex digits.</summary>
public static class OperationIds
{
    private static readonly System.Buffers.SearchValues<char> Hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static string New() => "op-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(10));

    public static bool IsValid(string id) => id.Length == 23 && id.StartsWith("op-", StringComparison.Ordinal) && !id.AsSpan(3).ContainsAnyExcept(Hex);
}
