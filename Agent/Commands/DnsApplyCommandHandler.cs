using System.Text.Json;
using ManagedServers.Agent.Dns;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary><c>dns.apply</c> (<see cref="DnsApplyArgs"/>): answers <see cref="DnsApplyOutput"/>, on failure too.</summary>
internal sealed class DnsApplyCommandHandler(DnsApplier applier, TimeProvider time) : ICommandHandler
{
    public string Kind => CommandKinds.DnsApply;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        DnsApplyArgs? args;
        try
        {
            args = command.Args is { } json ? json.Deserialize(ContractsJson.Default.DnsApplyArgs) : null;
        }
        catch (JsonException e)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), $"{command.Kind} arguments are not valid: {e.Message}");
        }

        if (args is null)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), $"{command.Kind} needs arguments");
        }

        try
        {
            var output = await applier.ApplyAsync(args, cancellationToken);
            return new CommandResult(command.CommandId, true, time.GetUtcNow(), Output: Serialize(output));
        }
        catch (DnsApplyException e)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), e.Message, Serialize(e.Output));
        }
    }

    private static JsonElement Serialize(DnsApplyOutput output) =>
        JsonSerializer.SerializeToElement(output, ContractsJson.Default.DnsApplyOutput);
}
