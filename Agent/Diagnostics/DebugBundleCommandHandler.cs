using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary><c>debug-bundle</c>: builds a bundle within the given bounds (defaults without arguments); output <see cref="DebugBundleOutput"/>.</summary>
internal sealed class DebugBundleCommandHandler(DebugBundleBuilder builder, TimeProvider time) : ICommandHandler
{
    public string Kind => CommandKinds.DebugBundle;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        DebugBundleArgs? args;
        try
        {
            args = command.Args is { ValueKind: not JsonValueKind.Null } element ? element.Deserialize(ContractsJson.Default.DebugBundleArgs) : null;
        }
        catch (JsonException e)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), "debug-bundle arguments are not valid: " + e.Message);
        }

        args ??= new DebugBundleArgs();
        if (DebugBundleBuilder.Validate(args) is { } invalid)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), invalid);
        }

        var output = await builder.BuildAsync(args, cancellationToken);
        return new CommandResult(command.CommandId, true, time.GetUtcNow(), Output: JsonSerializer.SerializeToElement(output, ContractsJson.Default.DebugBundleOutput));
    }
}
