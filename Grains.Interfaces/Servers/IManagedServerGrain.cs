using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// One managed server (key: server id). Holds the record, the liveness state machine
/// (pending → running → stopped | unreachable), enrolment and certificate bookkeeping and the
/// agent's command queue. Heartbeats arrive through the ingestion stream, not through this interface.
/// </summary>
[Alias("ms.IManagedServerGrain")]
public interface IManagedServerGrain : IGrainWithStringKey
{
    /// <summary>Creates the server. Fails with <see cref="ConflictException"/> when it exists.</summary>
    Task<ServerSnapshot> CreateAsync(ServerDefinition definition);

    /// <summary>The server, or null when it does not exist.</summary>
    [ReadOnly]
    Task<ServerSnapshot?> GetAsync();

    /// <summary>Changes the operator-supplied fields; renames are checked for uniqueness by the caller.</summary>
    Task<ServerSnapshot> UpdateAsync(ServerPatch patch);

    /// <summary>Deletes the server: its certificates stop working at once and it leaves the fleet index.</summary>
    Task DeleteAsync();

    /// <summary>
    /// Issues a new one-time enrolment token (the previous one stops working) and returns it in clear once.
    /// <paramref name="lifetime"/> overrides the setting's lifetime.
    /// </summary>
    Task<IssuedEnrollmentToken> IssueEnrollmentTokenAsync(TimeSpan? lifetime = null);

    /// <summary>Consumes an enrolment token. Throws <see cref="EnrollmentRefusedException"/> when it is invalid, expired or used.</summary>
    Task<ServerSnapshot> RedeemEnrollmentTokenAsync(string token);

    /// <summary>
    /// Checks an enrolment token without consuming it (throws like <see cref="RedeemEnrollmentTokenAsync"/>), so work
    /// that may fail (broker provisioning) can run before the token is spent.
    /// </summary>
    [ReadOnly]
    Task<ServerSnapshot> CheckEnrollmentTokenAsync(string token);

    /// <summary>Remembers a certificate issued to this server's agent.</summary>
    Task RecordCertificateAsync(string serialNumber, DateTimeOffset notAfter);

    /// <summary>
    /// Checks that a client certificate still speaks for this server and counts the request
    /// (requests_2m). Returns false when the server is deleted or the certificate unknown.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> AuthorizeAgentAsync(string certificateSerial);

    /// <summary>Queues a command for the agent. The id doubles as the idempotency key.</summary>
    Task<string> EnqueueCommandAsync(string kind, string? argsJson, TimeSpan timeToLive);

    /// <summary>Long-poll for the agent: commands due for delivery, waiting up to <paramref name="wait"/> for one.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<AgentCommand>> WaitForCommandsAsync(TimeSpan wait);

    /// <summary>
    /// Puts commands a long poll took back in the queue: the agent's poll ended (it went away) before the answer reached
    /// it, so they are delivered again at its next poll instead of after the redelivery delay.
    /// </summary>
    Task ReleaseCommandsAsync(ImmutableArray<string> commandIds);

    /// <summary>Stores a command's result; a repeated result for the same id is ignored.</summary>
    Task CompleteCommandAsync(CommandResult result);

    /// <summary>Waits up to <paramref name="wait"/> for a command's result.</summary>
    [AlwaysInterleave]
    Task<CommandStatus> WaitForCommandResultAsync(string commandId, TimeSpan wait);
}

/// <summary>A freshly issued enrolment token (clear text, shown once) and its expiry.</summary>
[GenerateSerializer, Immutable, Alias("ms.IssuedEnrollmentToken")]
public sealed record IssuedEnrollmentToken([property: Id(0)] string Token, [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>Where a command is.</summary>
public enum CommandState
{
    Queued,
    Delivered,
    Succeeded,
    Failed,
    Expired,
}

/// <summary>A command's status and, when done, its result.</summary>
[GenerateSerializer, Immutable, Alias("ms.CommandStatus")]
public sealed record CommandStatus(
    [property: Id(0)] string CommandId,
    [property: Id(1)] string Kind,
    [property: Id(2)] CommandState State,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? CompletedAt,
    [property: Id(5)] string? Error,
    [property: Id(6)] string? OutputJson);
