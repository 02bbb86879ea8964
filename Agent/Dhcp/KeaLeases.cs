using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ManagedServers.Agent.Engines;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dhcp;

/// <summary>
/// Leases through Kea's <c>lease_cmds</c> hook on a DHCP service's control socket: one page in address order
/// (<c>lease4-get-page</c>), a search for one client by what the text is (<c>lease4-get</c> by address,
/// <c>lease4-get-by-hw-address</c>, <c>-by-client-id</c>, <c>lease6-get-by-duid</c>, <c>-by-hostname</c>), and a delete.
/// </summary>
internal static partial class KeaLeases
{
    public const int MaxLimit = 1000;

    private static readonly string?[] V4Types = [null];

    private static readonly string?[] V6Types = ["IA_NA", "IA_PD"];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static async Task<DhcpLeasesOutput> ListAsync(string socket, bool v4, DhcpLeasesArgs args, CancellationToken cancellationToken)
    {
        var p = v4 ? "lease4" : "lease6";
        var search = args.Search?.Trim();
        if (string.IsNullOrEmpty(search))
        {
            var limit = Math.Clamp(args.Limit, 1, MaxLimit);
            var answer = await SendAsync(socket, $"{p}-get-page", new JsonObject { ["from"] = args.From ?? "start", ["limit"] = limit }, cancellationToken);
            var page = Leases(answer);
            return new DhcpLeasesOutput(page, page.Count == limit ? page[^1].Address : null, null);
        }

        if (IPAddress.TryParse(search, out var ip))
        {
            if (ip.AddressFamily != (v4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6))
            {
                return new DhcpLeasesOutput([], null, "address");
            }

            var found = new List<DhcpLease>();
            foreach (var type in v4 ? V4Types : V6Types)
            {
                var query = new JsonObject { ["ip-address"] = ip.ToString() };
                if (type is not null)
                {
                    query["type"] = type;
                }

                var answer = await SendAsync(socket, $"{p}-get", query, cancellationToken);
                if (answer.Ok && answer.Arguments is JsonObject lease)
                {
                    found.Add(Lease(lease));
                }
            }

            return new DhcpLeasesOutput(found, null, "address");
        }

        var (by, member) = HexPattern().IsMatch(search)
            ? v4 ? MacPattern().IsMatch(search) ? ("hw-address", "hw-address") : ("client-id", "client-id") : ("duid", "duid")
            : ("hostname", "hostname");
        var items = Leases(await SendAsync(socket, $"{p}-get-by-{by}", new JsonObject { [member] = by == "hostname" ? search.ToLowerInvariant() : search }, cancellationToken)).ToList();
        if (v4 && by == "hw-address")
        {
            // A client-id can also look like six hex bytes.
            items.AddRange(Leases(await SendAsync(socket, "lease4-get-by-client-id", new JsonObject { ["client-id"] = search }, cancellationToken)).Where(l => items.All(i => i.Address != l.Address)));
        }

        return new DhcpLeasesOutput(items, null, by);
    }

    /// <summary>Deletes the lease of <paramref name="address"/>; false when Kea has none.</summary>
    public static async Task<bool> DeleteAsync(string socket, bool v4, string address, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily != (v4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"'{address}' is not an IPv{(v4 ? 4 : 6)} address");
        }

        foreach (var type in v4 ? V4Types : V6Types)
        {
            var query = new JsonObject { ["ip-address"] = ip.ToString() };
            if (type is not null)
            {
                query["type"] = type;
            }

            if ((await SendAsync(socket, v4 ? "lease4-del" : "lease6-del", query, cancellationToken)).Ok)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sends a lease command; result 3 (nothing found) is an answer, a missing hook or an error is not.</summary>
    private static async Task<KeaAnswer> SendAsync(string socket, string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        var answer = await KeaControl.SendAsync(socket, command, arguments, Timeout, cancellationToken);
        return answer.Result switch
        {
            0 or 3 => answer,
            2 => throw new KeaControlException($"Kea does not know '{command}': its lease_cmds hook is not loaded (add libdhcp_lease_cmds.so to hooks-libraries; configurations started from /api/v1/dhcp have it)"),
            _ => throw new KeaControlException($"Kea refused {command}: {answer.Message}"),
        };
    }

    private static List<DhcpLease> Leases(KeaAnswer answer) =>
        answer.Ok && answer.Arguments?["leases"] is JsonArray leases ? [.. leases.OfType<JsonObject>().Select(Lease)] : [];

    private static DhcpLease Lease(JsonObject lease)
    {
        long? Number(string name) => lease[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
        string? Text(string name) => lease[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        var cltt = Number("cltt");
        var valid = Number("valid-lft");
        return new DhcpLease(
            Text("ip-address") ?? string.Empty,
            Text("hw-address"),
            Text("client-id"),
            Text("duid"),
            Text("hostname"),
            Number("subnet-id") ?? 0,
            cltt is { } c && valid is { } l ? DateTimeOffset.FromUnixTimeSeconds(c + l) : null,
            Number("state") switch { 1 => "declined", 2 => "expired-reclaimed", 0 or null => "assigned", var other => other.Value.ToString(CultureInfo.InvariantCulture) },
            Text("type"),
            lease["type"] is not null && Text("type") == "IA_PD" ? (int?)Number("prefix-len") : null);
    }

    [GeneratedRegex("^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2})*$")]
    private static partial Regex HexPattern();

    [GeneratedRegex("^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacPattern();
}
