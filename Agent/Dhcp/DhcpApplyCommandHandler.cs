using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dhcp;

/// <summary>
/// <c>dhcp.apply</c> (<see cref="DhcpApplyArgs"/>): a Kea configuration through <see cref="ConfigApplier"/> as a
/// <see cref="KeaChange"/>, under the service's gate. Answers <see cref="DhcpApplyOutput"/>, on failure too.
/// </summary>
internal sealed class DhcpApplyCommandHandler(ServiceManager manager, TimeProvider time) : ICommandHandler
{
    public string Kind => CommandKinds.DhcpApply;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        DhcpApplyArgs? args;
        try
        {
            args = command.Args?.Deserialize(ContractsJson.Default.DhcpApplyArgs);
        }
        catch (JsonException e)
        {
            return Failed(command, $"{command.Kind} arguments are not valid: {e.Message}", null);
        }

        if (args is null || manager.Engines.Find(args.Service) is not KeaEngine engine)
        {
            return Failed(command, args is null ? $"{command.Kind} needs arguments" : $"{args.Service} is not a DHCP service (dhcp4 or dhcp6)", null);
        }

        var steps = new StepLog();
        KeaChange? change = null;
        try
        {
            var document = KeaDocuments.Parse(args.Document);
            var result = await manager.WithServiceAsync(
                args.Service,
                async (runtime, record, layout) =>
                {
                    KeaDocuments.Confine(document, engine, layout, record);
                    change = new KeaChange(engine, runtime, layout, document, args.Version);
                    var applied = await ConfigApplier.ApplyAsync(runtime, layout, change, steps, cancellationToken);
                    if (applied.Outcome == ApplyOutcome.AlreadyLive && (await runtime.InspectAsync(layout.Kind, cancellationToken)).Running)
                    {
                        await change.CheckHealthAsync(cancellationToken); // reports the live hash and subnets
                    }

                    return applied;
                },
                cancellationToken);
            steps.Add(result.Outcome switch
            {
                ApplyOutcome.AlreadyLive => $"version {args.Version} is already live",
                ApplyOutcome.NotRunning => $"version {args.Version} is in place; {args.Service} is not running and starts with it",
                ApplyOutcome.Live => $"version {args.Version} is live: {change!.LiveSubnets.Count} subnets",
                _ => result.Message,
            });
            var output = Output(args.Version, result, change, steps);
            return result.Outcome == ApplyOutcome.RolledBack
                ? Failed(command, result.Message, output)
                : new CommandResult(command.CommandId, true, time.GetUtcNow(), Output: Serialize(output));
        }
        catch (Exception e) when (e is KeaRefusedException or ArgumentException or ServiceCommandException or KeaControlException)
        {
            steps.Add(e.Message);
            return Failed(command, e.Message, Output(args.Version, null, change, steps));
        }
    }

    private static DhcpApplyOutput Output(int version, ApplyResult? result, KeaChange? change, StepLog steps)
    {
        var live = result?.Outcome is ApplyOutcome.Live or ApplyOutcome.AlreadyLive or ApplyOutcome.NotRunning;
        return new DhcpApplyOutput(
            live ? version : 0,
            result?.Outcome == ApplyOutcome.RolledBack,
            result?.Outcome.ToString() ?? "Refused",
            change?.LiveHash,
            change?.LiveSubnets ?? [],
            [.. steps]);
    }

    private CommandResult Failed(AgentCommand command, string error, DhcpApplyOutput? output) =>
        new(command.CommandId, false, time.GetUtcNow(), error, output is null ? null : Serialize(output));

    private static JsonElement Serialize(DhcpApplyOutput output) => JsonSerializer.SerializeToElement(output, ContractsJson.Default.DhcpApplyOutput);
}
