namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// The review's findings sorted by the object they name, so a page shows each beside that object. The review names
/// objects in words (<c>subnet 1 (192.0.2.0/24)</c>, <c>pool 192.0.2.10 - 192.0.2.100 of subnet 1 (…)</c>,
/// <c>reservation hw-address 1a:… in subnet 1 (…)</c>, <c>client class printers</c>, <c>shared network lab</c>,
/// <c>option routers of the global scope</c>); what names none of those (hooks, the HA pair, global reservations) is
/// <see cref="Unplaced"/>, for a list at the top.
/// </summary>
public sealed class DhcpFindings(IReadOnlyList<DhcpFindingView> all)
{
    public IReadOnlyList<DhcpFindingView> All { get; } = all;

    public int Errors => All.Count(f => f.Severity == "error");

    public int Warnings => All.Count(f => f.Severity != "error");

    /// <summary>Everything about subnet <paramref name="id"/>: itself, its pools, reservations and options.</summary>
    public IReadOnlyList<DhcpFindingView> InSubnet(long id) => [.. All.Where(f => NamesSubnet(f.Object, id))];

    /// <summary>The findings about subnet <paramref name="id"/> itself (its prefix, id, options), not its pools or reservations.</summary>
    public IReadOnlyList<DhcpFindingView> OfSubnet(long id) =>
        [.. InSubnet(id).Where(f => !IsPool(f.Object) && !f.Object.Contains("reservation ", StringComparison.Ordinal))];

    /// <summary>The findings about pool <paramref name="range"/> of subnet <paramref name="subnetId"/> (the pool, its options).</summary>
    public IReadOnlyList<DhcpFindingView> OfPool(long subnetId, string range) =>
        [.. InSubnet(subnetId).Where(f => f.Object.Contains($"pool {range} of subnet {subnetId} (", StringComparison.Ordinal))];

    /// <summary>The findings about the reservation of client <paramref name="identifierType"/> (Kea's word: hw-address) <paramref name="identifier"/> in subnet <paramref name="subnetId"/>.</summary>
    public IReadOnlyList<DhcpFindingView> OfReservation(long subnetId, string identifierType, string identifier) =>
        [.. InSubnet(subnetId).Where(f => f.Object.Contains($"reservation {identifierType} {identifier} in subnet {subnetId} (", StringComparison.Ordinal))];

    public IReadOnlyList<DhcpFindingView> OfClass(string name) => [.. All.Where(f => Names(f.Object, "client class " + name))];

    public IReadOnlyList<DhcpFindingView> OfSharedNetwork(string name) => [.. All.Where(f => Names(f.Object, "shared network " + name))];

    /// <summary>The findings about the global option data (<c>option X of the global scope</c>).</summary>
    public IReadOnlyList<DhcpFindingView> OfGlobalOptions() => [.. All.Where(f => f.Object.EndsWith(" of the global scope", StringComparison.Ordinal))];

    /// <summary>The findings about no subnet, pool, class, shared network or global option: shown in a list at the top.</summary>
    public IReadOnlyList<DhcpFindingView> Unplaced(IEnumerable<long> subnetIds, IEnumerable<string> classes, IEnumerable<string> sharedNetworks)
    {
        var placed = new HashSet<DhcpFindingView>(OfGlobalOptions());
        foreach (var id in subnetIds)
        {
            placed.UnionWith(InSubnet(id));
        }

        foreach (var name in classes)
        {
            placed.UnionWith(OfClass(name));
        }

        foreach (var name in sharedNetworks)
        {
            placed.UnionWith(OfSharedNetwork(name));
        }

        return [.. All.Where(f => !placed.Contains(f))];
    }

    /// <summary>"1 error, 2 warnings", "no findings".</summary>
    public static string Summary(IReadOnlyCollection<DhcpFindingView> findings)
    {
        var errors = findings.Count(f => f.Severity == "error");
        var warnings = findings.Count - errors;
        var parts = new List<string>();
        if (errors > 0)
        {
            parts.Add(errors == 1 ? "1 error" : $"{errors} errors");
        }

        if (warnings > 0)
        {
            parts.Add(warnings == 1 ? "1 warning" : $"{warnings} warnings");
        }

        return parts.Count == 0 ? "no findings" : string.Join(", ", parts);
    }

    private static bool IsPool(string name) => name.StartsWith("pool ", StringComparison.Ordinal) || name.Contains(" of pool ", StringComparison.Ordinal) || name.StartsWith("pd-pool ", StringComparison.Ordinal);

    private static bool NamesSubnet(string name, long id) =>
        name.Contains($"subnet {id} (", StringComparison.Ordinal) || name == $"subnet id {id}";

    /// <summary>The object is <paramref name="what"/> itself, or an option of it.</summary>
    private static bool Names(string name, string what) => name == what || name.EndsWith(" of " + what, StringComparison.Ordinal);
}
