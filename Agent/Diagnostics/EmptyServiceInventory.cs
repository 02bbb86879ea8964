using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>The inventory of an agent without a service manager: no services, no runtime.</summary>
internal sealed class EmptyServiceInventory : IServiceInventory
{
    public string? RuntimeName => null;

    public IReadOnlyList<ServiceStatus> Statuses() => [];

    public IReadOnlyList<string> ConfigFiles(string kind) => [];

    public ServiceEndpoints? Endpoints(string kind) => null;

    public IReadOnlyList<DnsZoneSpec> DnsZones() => [];

    public Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken) => Task.FromResult("");

    public Task<RuntimeHealth> CheckRuntimeAsync(CancellationToken cancellationToken) => Task.FromResult(new RuntimeHealth(false, "no runtime"));
}
