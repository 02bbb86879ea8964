using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dhcp;

/// <summary>
/// The commands that ask a running Kea something (<c>dhcp.leases</c>, <c>dhcp.lease_delete</c>, <c>dhcp.status</c>): read
/// the arguments, find the DHCP service's control socket, ask Kea. Kea answers them while it serves; no service gate is taken.
/// </summary>
internal abstract class KeaQueryCommandHandler<TArgs>(IServiceInventory services, TimeProvider time, JsonTypeInfo<TArgs> argsType) : ICommandHandler
    where TArgs : class
{
    public abstract string Kind { get; }

    protected TimeProvider Clock => time;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        TArgs? args;
        try
        {
            args = command.Args?.Deserialize(argsType);
        }
        catch (JsonException e)
        {
            return Failed(command, $"{command.Kind} arguments are not valid: {e.Message}");
        }

        if (args is null)
        {
            return Failed(command, $"{command.Kind} needs arguments");
        }

        var service = ServiceOf(args);
        if (service is not (ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6))
        {
            return Failed(command, $"{service} is not a DHCP service (dhcp4 or dhcp6)");
        }

        if (services.Endpoints(service)?.ControlSocket is not { } socket)
        {
            return Failed(command, $"no {service} service is installed on this server");
        }

        try
        {
            var output = await RunAsync(socket, service == ServiceKinds.Dhcp4, args, cancellationToken);
            return new CommandResult(command.CommandId, true, time.GetUtcNow(), Output: output);
        }
        catch (Exception e) when (e is KeaControlException or ArgumentException)
        {
            return Failed(command, e.Message);
        }
    }

    protected abstract string ServiceOf(TArgs args);

    protected abstract Task<JsonElement?> RunAsync(string socket, bool v4, TArgs args, CancellationToken cancellationToken);

    private CommandResult Failed(AgentCommand command, string error) => new(command.CommandId, false, time.GetUtcNow(), error);
}

/// <summary><c>dhcp.leases</c>: a page of leases, or one client's.</summary>
internal sealed class DhcpLeasesCommandHandler(IServiceInventory services, TimeProvider time)
    : KeaQueryCommandHandler<DhcpLeasesArgs>(services, time, ContractsJson.Default.DhcpLeasesArgs)
{
    public override string Kind => CommandKinds.DhcpLeases;

    protected override string ServiceOf(DhcpLeasesArgs args) => args.Service;

    protected override async Task<JsonElement?> RunAsync(string socket, bool v4, DhcpLeasesArgs args, CancellationToken cancellationToken) =>
        JsonSerializer.SerializeToElement(await KeaLeases.ListAsync(socket, v4, args, cancellationToken), ContractsJson.Default.DhcpLeasesOutput);
}

/// <summary><c>dhcp.lease_delete</c>: one lease gone (Kea forgets it; the client gets a new one when it asks).</summary>
internal sealed class DhcpLeaseDeleteCommandHandler(IServiceInventory services, TimeProvider time)
    : KeaQueryCommandHandler<DhcpLeaseDeleteArgs>(services, time, ContractsJson.Default.DhcpLeaseDeleteArgs)
{
    public override string Kind => CommandKinds.DhcpLeaseDelete;

    protected override string ServiceOf(DhcpLeaseDeleteArgs args) => args.Service;

    protected override async Task<JsonElement?> RunAsync(string socket, bool v4, DhcpLeaseDeleteArgs args, CancellationToken cancellationToken) =>
        await KeaLeases.DeleteAsync(socket, v4, args.Address, cancellationToken)
            ? null
            : throw new ArgumentException($"{args.Service} has no lease of {args.Address} (not found)");
}

/// <summary><c>dhcp.status</c>: Kea's <c>status-get</c>, its sockets and (in an HA pair) this peer's and its partner's state.</summary>
internal sealed class DhcpStatusCommandHandler(IServiceInventory services, TimeProvider time)
    : KeaQueryCommandHandler<DhcpStatusArgs>(services, time, ContractsJson.Default.DhcpStatusArgs)
{
    public override string Kind => CommandKinds.DhcpStatus;

    protected override string ServiceOf(DhcpStatusArgs args) => args.Service;

    protected override async Task<JsonElement?> RunAsync(string socket, bool v4, DhcpStatusArgs args, CancellationToken cancellationToken)
    {
        var answer = await KeaControl.SendAsync(socket, "status-get", null, TimeSpan.FromSeconds(10), cancellationToken);
        if (!answer.Ok)
        {
            throw new KeaControlException($"Kea refused status-get: {answer.Message}");
        }

        var a = answer.Arguments;
        var ha = a?["high-availability"]?[0];
        var output = new DhcpStatusOutput(
            (string?)a?["sockets"]?["status"] == "ready",
            a?["uptime"] is System.Text.Json.Nodes.JsonValue u && u.TryGetValue<long>(out var up) ? up : null,
            (string?)ha?["ha-mode"],
            (string?)ha?["ha-servers"]?["local"]?["role"],
            (string?)ha?["ha-servers"]?["local"]?["state"],
            (string?)ha?["ha-servers"]?["remote"]?["last-state"],
            PartnerInTouch(ha?["ha-servers"]?["remote"]));
        return JsonSerializer.SerializeToElement(output, ContractsJson.Default.DhcpStatusOutput);
    }

    /// <summary>In touch now: Kea's "in-touch" only says the partner was reached once, "communication-interrupted" says it is not now.</summary>
    private static bool? PartnerInTouch(System.Text.Json.Nodes.JsonNode? remote)
    {
        static bool? Flag(System.Text.Json.Nodes.JsonNode? node) => node is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
        return Flag(remote?["communication-interrupted"]) is { } interrupted ? !interrupted && Flag(remote?["in-touch"]) != false : Flag(remote?["in-touch"]);
    }
}

/// <summary>
/// <c>dhcp.ha_maintenance</c>: Kea's <c>ha-maintenance-start</c> (this peer takes the pair's whole service; its partner
/// goes <c>in-maintenance</c>, or this peer goes <c>partner-down</c> when the partner is not there) or
/// <c>ha-maintenance-cancel</c> (both go back to their normal state). Nothing to do is not a failure: a Kea without the HA
/// hook (the pair's first configuration) has no maintenance to start, and a cancel finds none when the start did not
/// happen. A cancel waits (90 s at most) while this server is still in charge and its partner, just reconfigured, syncs
/// its leases before it can be handed back. A start Kea refuses (the partner is in a state that cannot hand over) fails,
/// with Kea's reason.
/// </summary>
internal sealed class DhcpHaMaintenanceCommandHandler(IServiceInventory services, TimeProvider time)
    : KeaQueryCommandHandler<DhcpHaMaintenanceArgs>(services, time, ContractsJson.Default.DhcpHaMaintenanceArgs)
{
    public override string Kind => CommandKinds.DhcpHaMaintenance;

    protected override string ServiceOf(DhcpHaMaintenanceArgs args) => args.Service;

    /// <summary>How long a hand-back waits for the partner to be back (it syncs its leases after its change before it can take its share again).</summary>
    private static readonly TimeSpan HandBackPatience = TimeSpan.FromSeconds(90);

    protected override async Task<JsonElement?> RunAsync(string socket, bool v4, DhcpHaMaintenanceArgs args, CancellationToken cancellationToken)
    {
        var command = args.Start ? "ha-maintenance-start" : "ha-maintenance-cancel";
        var started = Clock.GetTimestamp();
        while (true)
        {
            // The start waits for the partner's answer to ha-maintenance-notify (Kea's own timeout covers it).
            var answer = await KeaControl.SendAsync(socket, command, null, TimeSpan.FromSeconds(60), cancellationToken);
            var state = await StateAsync(socket, cancellationToken);
            // A cancel is done only when this server has left partner-in-maintenance: Kea has been seen answering a cancel
            // as successful and staying there, which would leave the pair with one peer in charge.
            var handedBack = args.Start || state != "partner-in-maintenance";
            if ((answer.Ok && handedBack) || answer.Result == 2)
            {
                var message = answer.Ok ? answer.Message : "Kea runs no HA hook: nothing to hand over";
                return JsonSerializer.SerializeToElement(new DhcpHaMaintenanceOutput(answer.Ok, message, state), ContractsJson.Default.DhcpHaMaintenanceOutput);
            }

            if (args.Start)
            {
                throw new KeaControlException($"Kea refused {command}: {answer.Message}");
            }

            // A cancel Kea refuses: this server is not in charge (nothing to hand back), or its partner, just changed, is
            // still syncing its leases and not yet back in the in-maintenance state it can be handed back from: wait.
            if (!answer.Ok && handedBack)
            {
                return JsonSerializer.SerializeToElement(new DhcpHaMaintenanceOutput(false, $"nothing to hand back ({answer.Message})", state), ContractsJson.Default.DhcpHaMaintenanceOutput);
            }

            if (Clock.GetElapsedTime(started) > HandBackPatience)
            {
                throw new KeaControlException($"Kea did not hand back for {HandBackPatience.TotalSeconds:0} s (this server stays in charge of the pair, state {state}): {answer.Message}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), Clock, cancellationToken);
        }
    }

    private static async Task<string?> StateAsync(string socket, CancellationToken cancellationToken)
    {
        var status = await KeaControl.SendAsync(socket, "status-get", null, TimeSpan.FromSeconds(10), cancellationToken);
        return (string?)status.Arguments?["high-availability"]?[0]?["ha-servers"]?["local"]?["state"];
    }
}
