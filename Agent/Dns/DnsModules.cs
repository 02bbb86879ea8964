using System.Collections.Concurrent;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// Whether a knotd has mod-dnstap (a separate Debian package, knot-module-dnstap): <c>knotc conf-check</c> of a
/// configuration with only a mod-dnstap section passes only when the module is there. Asked once per runtime and version.
/// </summary>
internal static class DnsModules
{
    private static readonly ConcurrentDictionary<string, bool> Known = new(StringComparer.Ordinal);

    public static async Task<bool> HasDnstapAsync(IServiceRuntime runtime, ServiceLayout layout, string version, CancellationToken cancellationToken)
    {
        var key = $"{runtime.Name}/{version}";
        if (Known.TryGetValue(key, out var known))
        {
            return known;
        }

        layout.CreateDirectories();
        var probe = Path.Combine(layout.ConfDirectory, "dnstap-probe.conf");
        AtomicFile.WriteAllText(probe, KnotConf.DnstapProbe(layout), AtomicFile.OwnerOnly);
        try
        {
            var result = await runtime.RunToolInVersionAsync(ServiceKinds.Dns, version, layout.Directory, ["knotc", "-c", probe, "conf-check"], TimeSpan.FromSeconds(30), cancellationToken);
            if (result.ExitCode == ToolResult.NotFound)
            {
                throw new ServiceRuntimeException($"knotc is not available to the {runtime.Name} runtime: {result.Output.Trim()}");
            }

            return Known[key] = result.Ok;
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
