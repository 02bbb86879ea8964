using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Operations;
using ManagedServers.Grains.Servers.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <inheritdoc cref="IDhcpFleetGrain"/>
[StatelessWorker]
public sealed class DhcpFleetGrain : Grain, IDhcpFleetGrain
{
    /// <summary>More servers than this in one push are refused: a larger group is several operations (or a rollout).</summary>
    public const int MaxServers = 500;

    public async Task<OperationSnapshot> PushAsync(DhcpFamily family, ImmutableArray<string> servers, bool acknowledgeWarnings, TimeSpan? waitForAgent)
    {
        if (servers.IsDefaultOrEmpty || servers.Any(string.IsNullOrWhiteSpace))
        {
            throw new DhcpConfigException("is required: the ids of the DHCP servers to push to") { Field = "servers" };
        }

        // The servers named, then their HA partners (a pair shares one configuration: both are pushed).
        var all = servers.Distinct(StringComparer.Ordinal).ToList();
        var checks = new Dictionary<string, DhcpPushCheck>(StringComparer.Ordinal);
        for (var i = 0; i < all.Count; i++)
        {
            if (all.Count > MaxServers)
            {
                throw new DhcpConfigException($"names {all.Count} servers with their HA partners; one push takes {MaxServers} at most") { Field = "servers" };
            }

            var check = await GrainFactory.GetGrain<IServerDhcpGrain>(all[i]).CheckPushAsync(family);
            if (check is null || !check.IsDhcp)
            {
                var partnerOf = i >= servers.Length ? " (named as an HA partner)" : string.Empty;
                throw new DhcpConfigException(check is null ? $"server '{all[i]}'{partnerOf} not found" : $"server '{check.Name}' ({all[i]}){partnerOf} is not a DHCP server") { Field = "servers" };
            }

            checks[all[i]] = check;
            all.AddRange((check.Ha?.Peers ?? []).Select(p => p.ServerId).Where(p => !all.Contains(p)));
        }

        var service = DhcpPushJobHandler.Service(family);
        foreach (var (id, check) in checks)
        {
            var name = $"server '{check.Name}' ({id})";
            if (!check.HasService)
            {
                throw new ConflictException($"{name} has no {service} service: add it first") { Field = "servers" };
            }

            if (!check.HasConfig)
            {
                throw new ConflictException($"{name} has no DHCPv{(int)family} configuration: import one or add subnets first") { Field = "servers" };
            }

            var errors = check.Findings.Where(f => f.Severity == DhcpSeverity.Error).ToList();
            if (errors.Count > 0)
            {
                throw new ConflictException($"{name}: the review found {errors.Count} error(s): {string.Join("; ", errors.Take(5).Select(f => $"{f.Object} {f.Message}"))}") { Field = "servers" };
            }

            if (!acknowledgeWarnings && check.Findings.FirstOrDefault(f => f.Severity == DhcpSeverity.Warning) is { } warning)
            {
                throw new ConflictException($"{name}: the review found warnings, not acknowledged (first: {warning.Object} {warning.Message})") { Field = "acknowledge_warnings" };
            }
        }

        var plan = DhcpPushPlan.Build(family, [.. all.Select(id => (id, checks[id].Ha))], acknowledgeWarnings, waitForAgent);
        return await GrainFactory.GetGrain<IOperationGrain>(OperationIds.New()).StartAsync(plan);
    }
}
