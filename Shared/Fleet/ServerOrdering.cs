using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Shared.Fleet;

/// <summary>Sort orders for server listings, shared by the shards and the API's merge step.</summary>
public static class ServerOrdering
{
    /// <summary>Filters, sorts and cuts one shard's servers: the whole of a shard's query, kept pure for tests and benchmarks.</summary>
    public static IndexQueryResult Query(IEnumerable<ServerSnapshot> servers, IndexQuery query)
    {
        var matches = servers;
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim();
            matches = matches.Where(s => Matches(s, term));
        }

        if (query.State is { } state)
        {
            matches = matches.Where(s => s.State == state);
        }

        if (query.Kind is { } kind)
        {
            matches = matches.Where(s => s.Definition.Kind == kind);
        }

        var list = matches.ToList();
        list.Sort(Comparer(query.Sort, query.Descending));
        var take = Math.Max(0, Math.Min(query.Take, list.Count));
        return new IndexQueryResult([.. list.Take(take)], list.Count);
    }

    private static bool Matches(ServerSnapshot s, string term) =>
        s.Definition.Name.Contains(term, StringComparison.OrdinalIgnoreCase)
        || s.Id.Contains(term, StringComparison.OrdinalIgnoreCase)
        || s.Definition.Address.Contains(term, StringComparison.OrdinalIgnoreCase)
        || s.Definition.ServerUser.Contains(term, StringComparison.OrdinalIgnoreCase)
        || (s.Hostname?.Contains(term, StringComparison.OrdinalIgnoreCase) ?? false);

    public static Comparison<ServerSnapshot> Comparer(ServerSort sort, bool descending)
    {
        Comparison<ServerSnapshot> primary = sort switch
        {
            ServerSort.State => (a, b) => a.State.CompareTo(b.State),
            ServerSort.Kind => (a, b) => a.Definition.Kind.CompareTo(b.Definition.Kind),
            ServerSort.LastHeartbeat => (a, b) => Nullable.Compare(a.LastHeartbeat, b.LastHeartbeat),
            ServerSort.CreatedAt => (a, b) => a.CreatedAt.CompareTo(b.CreatedAt),
            ServerSort.Requests2m => (a, b) => a.Requests2m.CompareTo(b.Requests2m),
            _ => (a, b) => 0,
        };
        return (a, b) =>
        {
            var c = primary(a, b);
            if (c == 0)
            {
                c = string.Compare(a.Definition.Name, b.Definition.Name, StringComparison.OrdinalIgnoreCase);
            }

            if (c == 0)
            {
                c = string.CompareOrdinal(a.Id, b.Id);
            }

            return descending ? -c : c;
        };
    }
}
