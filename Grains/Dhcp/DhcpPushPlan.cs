using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Operations;
using ManagedServers.Grains.Servers.Dhcp;

namespace ManagedServers.Grains.Dhcp;

/// <summary>
/// The plan of a DHCP push to several servers as one operation. Servers outside any HA pair, and a pair's backups, are
/// pushed side by side first. Each pair is then pushed one peer at a time, the standby (or secondary) before the primary,
/// and each peer's push is wrapped in a hand-over: its partner takes the pair's whole service first
/// (<c>ha-maintenance-start</c>; if it cannot, the push goes on and says so) and hands back after (<c>ha-maintenance-cancel</c>,
/// also when the push failed). A failed push stops its pair: the primary is not pushed after its standby refused.
/// </summary>
public static class DhcpPushPlan
{
    /// <summary>
    /// The plan for <paramref name="servers"/> (each with the HA pair its configuration of <paramref name="family"/> names,
    /// or null; the partners of a pair must be among them, which the caller ensures).
    /// </summary>
    public static OperationPlan Build(DhcpFamily family, IReadOnlyList<(string ServerId, DhcpHa? Ha)> servers, bool acknowledgeWarnings, TimeSpan? waitForAgent)
    {
        var service = DhcpPushJobHandler.Service(family);
        JobRequest Push() => new(JobKinds.DhcpPush, service, new DhcpPushSpec(family, acknowledgeWarnings), WaitForAgent: waitForAgent);
        JobRequest HandOver(bool start) => new(JobKinds.DhcpHaMaintenance, service, new DhcpHaMaintenanceSpec(family, start), WaitForAgent: waitForAgent);

        var requested = servers.Select(s => s.ServerId).ToHashSet(StringComparer.Ordinal);
        var steps = new List<OperationStep>();
        var planned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, ha) in servers)
        {
            if (planned.Contains(id))
            {
                continue;
            }

            var active = ha?.Peers.Where(p => p.Role != "backup" && requested.Contains(p.ServerId)).ToList() ?? [];
            if (ha is null || active.Count != 2 || !active.Any(p => p.ServerId == id))
            {
                // Alone, a backup, or a pair not whole here: a plain push of its own.
                planned.Add(id);
                steps.Add(new OperationStep(0, id, id, $"push {service} to {id}", Push()));
                continue;
            }

            var group = $"pair {active[0].ServerId}+{active[1].ServerId}";
            foreach (var backup in ha.Peers.Where(p => p.Role == "backup" && requested.Contains(p.ServerId) && planned.Add(p.ServerId)))
            {
                steps.Add(new OperationStep(0, backup.ServerId, backup.ServerId, $"push {service} to backup {backup.Name} ({backup.ServerId})", Push()));
            }

            var stage = 1;
            foreach (var peer in active.OrderBy(p => p.Role == "primary" ? 1 : 0))
            {
                planned.Add(peer.ServerId);
                var partner = active.Single(p => p.ServerId != peer.ServerId);
                steps.Add(new OperationStep(stage++, group, partner.ServerId, $"{partner.Name} ({partner.Role}) takes the pair's service while {peer.Name} changes", HandOver(true), OperationStepMode.BestEffort));
                steps.Add(new OperationStep(stage++, group, peer.ServerId, $"push {service} to {peer.Name} ({peer.Role})", Push()));
                steps.Add(new OperationStep(stage++, group, partner.ServerId, $"{partner.Name} hands the pair's service back", HandOver(false), OperationStepMode.Always));
            }
        }

        var pairs = steps.Select(s => s.Group).Where(g => g.StartsWith("pair ", StringComparison.Ordinal)).Distinct().Count();
        var summary = $"push {service} to {planned.Count} server(s)" + (pairs > 0 ? $", {pairs} HA pair(s) one peer at a time, standby first" : string.Empty);
        return new OperationPlan(JobKinds.DhcpPush, summary, [.. steps.OrderBy(s => s.Stage)]);
    }
}
