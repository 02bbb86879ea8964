using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>Executes one kind of <see cref="AgentCommand"/>. Register implementations in DI; the executor picks by <see cref="Kind"/>.</summary>
internal interface ICommandHandler
{
    string Kind { get; }

    Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken);
}
