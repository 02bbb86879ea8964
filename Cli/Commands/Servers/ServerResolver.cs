using System.Net;
using ManagedServers.Cli.Api;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Cli.Commands.Servers;

/// <summary>Finds a server by id, or else by exact name.</summary>
internal static class ServerResolver
{
    private const int PageSize = 100;
    private const int MaxPages = 50;

    /// <summary>
    /// GET /servers/{idOrName}; on 404 (or 400 for an id of the wrong shape) lists /servers?q=NAME and takes the
    /// exact name match (ordinal, else a single case-insensitive match), then fetches it by id.
    /// </summary>
    public static async Task<ApiResult<ServerView>> ResolveAsync(ApiClient api, string idOrName, CancellationToken ct)
    {
        try
        {
            return await api.GetServerAsync(idOrName, ct);
        }
        catch (ApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            // Not an id: try it as a name.
        }

        var match = await FindByNameAsync(api, idOrName, ct)
            ?? throw new CliException($"no server with id or name '{idOrName}'");
        return await api.GetServerAsync(match.Id, ct);
    }

    private static async Task<ServerView?> FindByNameAsync(ApiClient api, string name, CancellationToken ct)
    {
        var insensitive = new List<ServerView>();
        for (var page = 1; page <= MaxPages; page++)
        {
            var result = (await api.ListServersAsync(new ServerQuery(Q: name, Page: page, PerPage: PageSize), ct)).Value;
            var exact = result.Items.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
            if (exact is not null)
            {
                return exact;
            }

            insensitive.AddRange(result.Items.Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)));
            var perPage = result.PerPage > 0 ? result.PerPage : result.Items.Count;
            if (result.Items.Count == 0 || page * perPage >= result.Total)
            {
                break;
            }
        }

        return insensitive.Count == 1 ? insensitive[0] : null;
    }
}
