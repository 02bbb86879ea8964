using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>One check per installed service (running and answering), or one "no services installed".</summary>
internal sealed class ServiceChecks(IServiceInventory inventory) : IDiagnosticCheckSource
{
    public IEnumerable<IDiagnosticCheck> Checks()
    {
        var statuses = inventory.Statuses();
        if (statuses.Count == 0)
        {
            return [Check.Fixed(Check.Pass("services", "no services installed"))];
        }

        return statuses.Select(s => (IDiagnosticCheck)new ServiceCheck(s, inventory)).ToList();
    }
}

/// <summary>A service runs (state from the inventory) and answers (DNS query / Kea status-get).</summary>
internal sealed class ServiceCheck(ServiceStatus status, IServiceInventory inventory) : IDiagnosticCheck
{
    public string Name => "service " + status.Kind;

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        switch (status.State)
        {
            case ServiceStates.Stopped:
                return Check.Warn(Name, $"{status.Kind} is stopped (on purpose, since {status.Since:u})", $"start it with the service.start command if it should run");
            case ServiceStates.Failed:
                return Check.Fail(
                    Name,
                    $"{status.Kind} is not running: {status.Error ?? "failed"} ({status.RestartCount} restarts)",
                    "the agent restarts it with backoff; read its log in a debug bundle for the cause (bad configuration, port in use)");
            case ServiceStates.Running:
                break;
            default:
                return Check.Warn(Name, $"{status.Kind} is in state '{status.State}'", null);
        }

        var endpoints = inventory.Endpoints(status.Kind);
        return status.Kind == ServiceKinds.Dns
            ? await DnsAsync(endpoints?.Dns, cancellationToken)
            : await KeaAsync(endpoints?.ControlSocket, cancellationToken);
    }

    private async Task<DiagnosticCheck> DnsAsync(IPEndPoint? listen, CancellationToken cancellationToken)
    {
        if (listen is null)
        {
            return Check.Fail(Name, "running, but its listen address is unknown", "reinstall the service (service.install) so the agent records where it listens");
        }

        var target = ToLocal(listen);
        var answer = await ServiceProbes.DnsAsync(target, cancellationToken);
        if (!answer.Ok)
        {
            return Check.Fail(
                Name,
                $"running, but no DNS answer ({answer.Message})",
                "check that knotd listens on that address (its log in a debug bundle), and that no firewall drops local queries");
        }

        var elapsed = Check.Ms(answer.Latency);
        return answer.Message is "REFUSED" or "NOTAUTH"
            ? Check.Pass(Name, $"running; answering on {target} ({answer.Message} in {elapsed}); serves no zones yet")
            : Check.Pass(Name, $"running; answering on {target} ({answer.Message} in {elapsed})");
    }

    private async Task<DiagnosticCheck> KeaAsync(string? socketPath, CancellationToken cancellationToken)
    {
        if (socketPath is null)
        {
            return Check.Fail(Name, "running, but its control socket is unknown", "reinstall the service (service.install) so the agent records its control socket");
        }

        var answer = await ServiceProbes.KeaStatusAsync(socketPath, cancellationToken);
        return answer.Ok
            ? Check.Pass(Name, $"running; status-get answered on {socketPath} in {Check.Ms(answer.Latency)}")
            : Check.Fail(
                Name,
                $"running, but status-get on the control socket {socketPath} failed: {answer.Message}",
                "check control-socket in the Kea configuration and that the socket file exists; read the Kea log in a debug bundle; restart the service (service.restart)");
    }

    /// <summary>A wildcard listen address is probed on the loopback address of its family.</summary>
    private static IPEndPoint ToLocal(IPEndPoint listen) =>
        listen.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, listen.Port)
        : listen.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, listen.Port)
        : listen;
}
