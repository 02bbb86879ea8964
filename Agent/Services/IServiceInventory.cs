using System.Net;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Services;

/// <summary>
/// What the rest of the agent (heartbeats, diagnostics, debug bundle) may know about the services the agent runs,
/// whichever runtime runs them. Implemented by the service manager (Services/ServiceManager.cs).
/// </summary>
internal interface IServiceInventory
{
    /// <summary>The runtime this agent uses: <see cref="RuntimeNames.Docker"/> or <see cref="RuntimeNames.Exec"/>, or null before any service was installed.</summary>
    string? RuntimeName { get; }

    /// <summary>Every installed service, as reported in heartbeats.</summary>
    IReadOnlyList<ServiceStatus> Statuses();

    /// <summary>The configuration files of a service (absolute host paths), for the debug bundle (which redacts secrets).</summary>
    IReadOnlyList<string> ConfigFiles(string kind);

    /// <summary>Where a service answers: DNS listen endpoint, Kea control socket; null when not installed.</summary>
    ServiceEndpoints? Endpoints(string kind);

    /// <summary>
    /// The zones the DNS service was given by the last <c>dns.apply</c> that took effect, with the serial each must
    /// answer; empty when none was applied (or no DNS service is installed).
    /// </summary>
    IReadOnlyList<DnsZoneSpec> DnsZones();

    /// <summary>The last <paramref name="maxBytes"/> bytes of a service's log (container log or captured process output).</summary>
    Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Health of the runtime itself: docker engine ping and version, or (exec) the service binaries found.</summary>
    Task<RuntimeHealth> CheckRuntimeAsync(CancellationToken cancellationToken);
}

/// <summary>Where a service answers. <see cref="Dns"/> for DNS; <see cref="ControlSocket"/> (unix socket path on the host) for Kea.</summary>
internal sealed record ServiceEndpoints(IPEndPoint? Dns, string? ControlSocket);

/// <summary>Runtime health: usable or not, with a one-line description (engine version, or what is missing).</summary>
internal sealed record RuntimeHealth(bool Healthy, string Description);
