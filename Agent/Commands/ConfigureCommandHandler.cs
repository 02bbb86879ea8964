using System.Text.Json;
using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>
/// <c>configure</c>: new heartbeat interval and monitoring settings, applied at once and saved to
/// <c>agent.json</c>. AMQP agents get their settings this way (HTTPS agents read them from heartbeat acks).
/// </summary>
internal sealed class ConfigureCommandHandler(AgentRuntimeSettings settings, TimeProvider time, ILogger<ConfigureCommandHandler> logger) : ICommandHandler
{
    public string Kind => CommandKinds.Configure;

    public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        ConfigureArgs? args = null;
        try
        {
            args = command.Args is { } element ? element.Deserialize(ContractsJson.Default.ConfigureArgs) : null;
        }
        catch (JsonException e)
        {
            return Task.FromResult(new CommandResult(command.CommandId, false, time.GetUtcNow(), "configure arguments are not valid: " + e.Message));
        }

        if (args is null || args.HeartbeatIntervalSeconds <= 0 || args.Monitoring is null
            || args.Monitoring.SystemIntervalSeconds <= 0 || args.Monitoring.DnsIntervalSeconds <= 0 || args.Monitoring.DhcpIntervalSeconds <= 0)
        {
            return Task.FromResult(new CommandResult(command.CommandId, false, time.GetUtcNow(), "configure needs heartbeat_interval_seconds and monitoring with positive intervals"));
        }

        settings.Apply(args.HeartbeatIntervalSeconds, args.Monitoring, logger);
        return Task.FromResult(new CommandResult(command.CommandId, true, time.GetUtcNow()));
    }
}
