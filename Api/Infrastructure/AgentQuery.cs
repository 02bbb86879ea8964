namespace ManagedServers.Api.Infrastructure;

/// <summary>
/// A request answered by the server's agent while the caller waits (ping, leases): the command is queued on the
/// server's command channel and its result awaited for a bounded time. 404 for an unknown server, 503 when its agent
/// is not running, 504 when it did not answer in time (the command stays queued until its time to live ends).
/// </summary>
public static class AgentQuery
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>The server, or the problem that stops it answering now.</summary>
    public static async Task<(ServerSnapshot? Server, ProblemHttpResult? Problem)> ReachableAsync(IGrainFactory grains, string id)
    {
        var server = await grains.GetGrain<IManagedServerGrain>(id).GetAsync();
        if (server is null)
        {
            return (null, Problem.NotFound($"server '{id}' not found"));
        }

        return server.State == ServerState.Running
            ? (server, null)
            : (server, Problem.Of(503, "Agent offline", $"server '{server.Definition.Name}' is {ServerMapping.Wire(server.State)}; its agent must be running to answer", ProblemTypes.AgentOffline));
    }

    /// <summary>Queues <paramref name="kind"/> and waits for its result: the finished command, or a 504 problem.</summary>
    public static async Task<(CommandStatus Status, ProblemHttpResult? Problem)> AskAsync(IGrainFactory grains, ServerSnapshot server, string kind, string? argsJson)
    {
        var grain = grains.GetGrain<IManagedServerGrain>(server.Id);
        var commandId = await grain.EnqueueCommandAsync(kind, argsJson, Wait + TimeSpan.FromSeconds(10));
        var status = await grain.WaitForCommandResultAsync(commandId, Wait);
        return status.State is CommandState.Succeeded or CommandState.Failed
            ? (status, null)
            : (status, Problem.Of(504, "Agent did not answer", $"no answer from the agent of '{server.Definition.Name}' within {Wait.TotalSeconds:0} s (command {commandId} is {ServerMapping.Wire(status.State)})", ProblemTypes.AgentOffline));
    }
}
