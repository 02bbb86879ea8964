using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>How pages name jobs: a kind in words ("stop_service" → "Stop service"), the kinds to filter by, the states.</summary>
public static class JobText
{
    /// <summary>The kinds the control plane ships (<see cref="JobKinds"/>), in the order a filter lists them.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
    [
        JobKinds.AddService, JobKinds.UpdateService, JobKinds.StartService, JobKinds.StopService, JobKinds.RestartService, JobKinds.RemoveService,
        JobKinds.PushConfig, JobKinds.PushZones, JobKinds.RevertConfig, JobKinds.DhcpPush, JobKinds.DhcpHaMaintenance, JobKinds.Diagnostics, JobKinds.DebugBundle,
    ];

    /// <summary>The states as the API writes them.</summary>
    public static IReadOnlyList<string> States { get; } = ["queued", "running", "succeeded", "failed"];

    /// <summary>"stop_service" → "Stop service"; "dhcp_push" → "DHCP push"; an unknown kind is written the same way.</summary>
    public static string Kind(string kind)
    {
        var words = kind.Replace('_', ' ');
        words = words.Replace("dhcp", "DHCP", StringComparison.Ordinal).Replace("dns", "DNS", StringComparison.Ordinal).Replace(" ha ", " HA ", StringComparison.Ordinal);
        return Show.Title(words);
    }

    /// <summary>A job's kind and the service it acts on: "Stop service dns".</summary>
    public static string What(string kind, string? service) => service is { Length: > 0 } s ? $"{Kind(kind)} {s}" : Kind(kind);
}
