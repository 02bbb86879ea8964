namespace ManagedServers.Contracts.Agent;

/// <summary>
/// The agent-facing HTTP API: paths (relative to the agent URL) and the problem type that tells an
/// agent it has been refused for good. Shared by the control plane, the agent, the tests and the simulator.
/// </summary>
public static class AgentApi
{
    public const string Enroll = "api/v1/agent/enroll";
    public const string Renew = "api/v1/agent/renew";
    public const string Heartbeat = "api/v1/monitoring/heartbeat";
    public const string Commands = "api/v1/agent/commands";
    public const string Metrics = "api/v1/monitoring/metrics";

    /// <summary>Route template of a command's result.</summary>
    public const string CommandResultTemplate = Commands + "/{commandId}/result";

    /// <summary>Problem type when the agent's server was deleted or its certificate revoked.</summary>
    public const string RevokedProblemType = "https://managedservers.dev/problems/agent-revoked";
}
