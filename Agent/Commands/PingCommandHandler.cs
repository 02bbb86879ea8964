using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary><c>ping</c>: answers with the agent version, clock and uptime.</summary>
internal sealed class PingCommandHandler(AgentInfo info, TimeProvider time) : ICommandHandler
{
    public string Kind => CommandKinds.Ping;

    public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var output = JsonSerializer.SerializeToElement(new PingOutput(AgentInfo.Version, now, info.UptimeSeconds), ContractsJson.Default.PingOutput);
        return Task.FromResult(new CommandResult(command.CommandId, Success: true, CompletedAt: now, Output: output));
    }
}
