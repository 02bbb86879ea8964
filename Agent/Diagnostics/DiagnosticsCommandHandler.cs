using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary><c>diagnostics</c>: runs the checks; the command succeeds whatever they find (output <see cref="DiagnosticsReport"/>).</summary>
internal sealed class DiagnosticsCommandHandler(DiagnosticsRunner runner, TimeProvider time) : ICommandHandler
{
    public string Kind => CommandKinds.Diagnostics;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        var report = await runner.RunAsync(cancellationToken);
        var output = JsonSerializer.SerializeToElement(report, ContractsJson.Default.DiagnosticsReport);
        return new CommandResult(command.CommandId, Success: true, CompletedAt: time.GetUtcNow(), Output: output);
    }
}
