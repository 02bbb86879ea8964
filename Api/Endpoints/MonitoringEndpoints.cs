using System.Net.NetworkInformation;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Settings;
using Microsoft.Extensions.Configuration;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/monitoring: what people read about liveness (agents post heartbeats via AgentEndpoints).</summary>
public static class MonitoringEndpoints
{
    public static IEndpointRouteBuilder MapMonitoringApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/monitoring").WithTags("Monitoring").RequireAuthorization(AuthNames.PeopleRead);
        read.MapGet("/heartbeat", HeartbeatsAsync).WithName("GetHeartbeats").WithSummary("Liveness of one server (?server=ID) or of the fleet");
        read.MapGet("/control-plane-ips", ControlPlaneIpsAsync).WithName("GetControlPlaneIps").WithSummary("Addresses at which agents reach the control plane");
        return app;
    }

    public static async Task<Results<Ok<HeartbeatView[]>, ProblemHttpResult>> HeartbeatsAsync(IGrainFactory grains, string? server = null, string? state = null)
    {
        if (!string.IsNullOrEmpty(server))
        {
            var snapshot = await grains.GetGrain<IManagedServerGrain>(server).GetAsync();
            return snapshot is null ? Problem.NotFound($"server '{server}' not found") : TypedResults.Ok(new[] { snapshot.ToHeartbeatView() });
        }

        ServerState? filter = ServerMapping.TryParse<ServerState>(state, out var s) ? s : null;
        var (items, _) = await ServersEndpoints.QueryFleetAsync(grains, new IndexQuery(null, ServerSort.Name, false, 10_000, filter), 0, 10_000);
        return TypedResults.Ok(items.Select(i => i.ToHeartbeatView()).ToArray());
    }

    public static async Task<Ok<ControlPlaneIps>> ControlPlaneIpsAsync(IGrainFactory grains, IConfiguration configuration)
    {
        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        var (listenerHost, _) = AgentEndpointConfig.DefaultAgentAddress(configuration);
        var ips = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Where(a => !a.Address.IsIPv6LinkLocal)
            .Select(a => a.Address.ToString())
            .Prepend(listenerHost)
            .Prepend(settings.MonitoringApiIp)
            .Where(a => !string.IsNullOrEmpty(a))
            .Distinct()
            .ToList();
        var defaultIp = string.IsNullOrEmpty(settings.MonitoringApiIp) ? listenerHost : settings.MonitoringApiIp;
        return TypedResults.Ok(new ControlPlaneIps(ips, defaultIp));
    }
}
