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

    /// <summary>
    /// Remembers a certificate issued to this server's agent. At enrolment (<paramref name="renewedFrom"/> null) it
    /// becomes the only one: every earlier certificate stops working at once. At a renewal it is held as the one the
    /// agent is renewing to, beside the current <paramref name="renewedFrom"/>, until its first use.
    /// </summary>
    Task RecordCertificateAsync(AgentCertificate certificate, string? renewedFrom = null);

    /// <summary>
    /// Checks that a client certificate still speaks for this server and counts the request (requests_2m). No I/O:
    /// the first use of a renewed certificate answers <see cref="AgentAuthorization.AllowedFirstUse"/>, and the caller
    /// then calls <see cref="PromoteCertificateAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<AgentAuthorization> AuthorizeAgentAsync(string certificateSerial);

    /// <summary>Makes a renewed certificate current: the one it replaced (and any other) stops working.</summary>
    Task PromoteCertificateAsync(string certificateSerial);

    /// <summary>
    /// Records that a certificate of ours for this server was refused (superseded or unknown): a
    /// "possible cloned agent" event, at most one per certificate every ten minutes.
    /// </summary>
    Task ReportRefusedCertificateAsync(string certificateSerial, string? remoteAddress);

    /// <summary>Revokes every certificate of this server's agent (an admin's action, named by the caller); returns how many were live.</summary>
    Task<int> RevokeCertificatesAsync();

    /// <summary>The server's events, oldest first.</summary>
    [ReadOnly]
    Task<ImmutableArray<ServerEvent>> GetEventsAsync();

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

/// <summary>A client certificate issued to a server's agent: serial (hex), expiry and the issuing CA's subject.</summary>
[GenerateSerializer, Immutable, Alias("ms.AgentCertificate")]
public sealed record AgentCertificate([property: Id(0)] string Serial, [property: Id(1)] DateTimeOffset NotAfter, [property: Id(2)] string Issuer);

/// <summary>What a client certificate is to its server.</summary>
public enum AgentAuthorization
{
    /// <summary>The server does not exist (deleted).</summary>
    NoServer,

    /// <summary>The current certificate (or one still valid from before certificates were tracked by role).</summary>
    Allowed,

    /// <summary>The certificate a renewal issued, used for the first time: the caller promotes it.</summary>
    AllowedFirstUse,

    /// <summary>Replaced by a later enrolment or renewal, or revoked: someone holds a copy, or an old agent still runs.</summary>
    Superseded,

    /// <summary>Signed by our CA for this server but never recorded (or expired).</summary>
    Unknown,
}

/// <summary>Something that happened to a server, for its event list (<c>GET /api/v1/servers/{id}/events</c>).</summary>
[GenerateSerializer, Immutable, Alias("ms.ServerEvent")]
public sealed record ServerEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Severity,
    [property: Id(3)] string Message);

/// <summary>Kinds of <see cref="ServerEvent"/>.</summary>
public static class ServerEventKinds
{
    public const string Enrolled = "agent.enrolled";
    public const string CertificateRenewed = "certificate.renewed";
    public const string CertificateRevoked = "certificate.revoked";
    public const string CertificateRefused = "certificate.refused";
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
