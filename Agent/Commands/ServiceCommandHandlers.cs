using System.Text.Json;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>
/// The service commands: parse the arguments, run the <see cref="ServiceManager"/> operation and answer with
/// <see cref="ServiceCommandOutput"/> (the service afterwards and the steps taken), on failure too.
/// </summary>
internal abstract class ServiceCommandHandler(TimeProvider time) : ICommandHandler
{
    public abstract string Kind { get; }

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        try
        {
            var output = await RunAsync(command, cancellationToken);
            return new CommandResult(command.CommandId, true, time.GetUtcNow(), Output: Serialize(output));
        }
        catch (ServiceCommandException e)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), e.Message, Serialize(new ServiceCommandOutput(StatusAfterFailure(command), e.Steps)));
        }
        catch (ArgumentsException e)
        {
            return new CommandResult(command.CommandId, false, time.GetUtcNow(), e.Message);
        }
    }

    protected abstract Task<ServiceCommandOutput> RunAsync(AgentCommand command, CancellationToken cancellationToken);

    protected virtual ServiceStatus? StatusAfterFailure(AgentCommand command) => null;

    protected static T Parse<T>(AgentCommand command, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return (command.Args is { } args ? args.Deserialize(type) : null)
                ?? throw new ArgumentsException($"{command.Kind} needs arguments");
        }
        catch (JsonException e)
        {
            throw new ArgumentsException($"{command.Kind} arguments are not valid: {e.Message}");
        }
    }

    private static JsonElement Serialize(ServiceCommandOutput output) =>
        JsonSerializer.SerializeToElement(output, ContractsJson.Default.ServiceCommandOutput);

    private sealed class ArgumentsException(string message) : Exception(message);
}

/// <summary><c>service.install</c> (<see cref="ServiceInstallArgs"/>).</summary>
internal sealed class ServiceInstallCommandHandler(ServiceManager manager, TimeProvider time) : ServiceCommandHandler(time)
{
    public override string Kind => CommandKinds.ServiceInstall;

    protected override Task<ServiceCommandOutput> RunAsync(AgentCommand command, CancellationToken cancellationToken) =>
        manager.InstallAsync(Parse(command, ContractsJson.Default.ServiceInstallArgs), cancellationToken);

    protected override ServiceStatus? StatusAfterFailure(AgentCommand command) =>
        command.Args is { } args && args.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String ? manager.Status(kind.GetString()!) : null;
}

/// <summary><c>service.start</c>, <c>service.stop</c>, <c>service.restart</c>, <c>service.remove</c> (<see cref="ServiceActionArgs"/>).</summary>
internal sealed class ServiceActionCommandHandler(string kind, Func<ServiceManager, string, CancellationToken, Task<ServiceCommandOutput>> action, ServiceManager manager, TimeProvider time) : ServiceCommandHandler(time)
{
    public override string Kind => kind;

    public static ServiceActionCommandHandler Create(string commandKind, ServiceManager manager, TimeProvider time) => commandKind switch
    {
        CommandKinds.ServiceStart => new(commandKind, (m, k, ct) => m.StartAsync(k, ct), manager, time),
        CommandKinds.ServiceStop => new(commandKind, (m, k, ct) => m.StopAsync(k, ct), manager, time),
        CommandKinds.ServiceRestart => new(commandKind, (m, k, ct) => m.RestartAsync(k, ct), manager, time),
        CommandKinds.ServiceRemove => new(commandKind, (m, k, ct) => m.RemoveAsync(k, ct), manager, time),
        _ => throw new ArgumentOutOfRangeException(nameof(commandKind), commandKind, "not a service action"),
    };

    protected override Task<ServiceCommandOutput> RunAsync(AgentCommand command, CancellationToken cancellationToken) =>
        action(manager, Parse(command, ContractsJson.Default.ServiceActionArgs).Kind, cancellationToken);

    protected override ServiceStatus? StatusAfterFailure(AgentCommand command) =>
        command.Args is { } args && args.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String ? manager.Status(kind.GetString()!) : null;
}
