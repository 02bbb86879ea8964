using System.ComponentModel;
using System.Globalization;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dhcp;

/// <summary>Options of the commands that change DHCP objects: the family and the servers whose configuration changes.</summary>
internal class DhcpEditSettings : OutputSettings
{
    [CommandOption("--family <4|6>")]
    [Description("DHCPv4 (default) or DHCPv6")]
    [DefaultValue(4)]
    public int Family { get; init; } = 4;

    [CommandOption("-s|--server <ID|NAME>")]
    [Description("A DHCP server whose configuration changes (repeat for several: each is checked before any changes)")]
    public string[] Servers { get; init; } = [];

    public override ValidationResult Validate() =>
        Servers.Length == 0 ? ValidationResult.Error("--server is required: the DHCP server(s) whose configuration changes") : base.Validate();

    /// <summary>The servers' ids, names resolved.</summary>
    public async Task<List<string>> ServerIdsAsync(ApiClient api, CancellationToken ct)
    {
        var ids = new List<string>();
        foreach (var server in Servers)
        {
            ids.Add((await ServerResolver.ResolveAsync(api, server, ct)).Value.Id);
        }

        return ids;
    }
}

internal sealed class DhcpSubnetsSettings : ServerIdSettings
{
    [CommandOption("--family <4|6>")]
    [Description("Only DHCPv4 or DHCPv6 (default: both)")]
    public int? Family { get; init; }
}

/// <summary>msctl dhcp subnets list SERVER: the subnets of the server's configuration.</summary>
internal sealed class DhcpSubnetsCommand(CliHost host) : ApiCommand<DhcpSubnetsSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpSubnetsSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListDhcpSubnetsAsync(server.Id, settings.Family, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Items.Count == 0)
            {
                Host.Console.MarkupLineInterpolated($"[bold]{server.Name}[/] has no subnets yet: add one with [bold]msctl dhcp subnets add --id 1 --subnet 192.0.2.0/24 --pool 192.0.2.10-192.0.2.200 -s {server.Name}[/], or import a Kea file with [bold]msctl dhcp import[/].");
                return;
            }

            var table = Tables.Create("Family", "Id", "Subnet", "Shared network", "Pools", "Reservations", "Options");
            foreach (var s in result.Value.Items)
            {
                table.AddRow(
                    new Text($"v{s.Family}"),
                    new Text(s.Id.ToString(CultureInfo.InvariantCulture)),
                    new Text(s.Subnet),
                    new Text(s.SharedNetwork ?? "-"),
                    new Text(string.Join("\n", s.Pools.Concat(s.PdPools.Select(p => $"{p.Prefix}/{p.PrefixLen} as /{p.DelegatedLen}"))) is { Length: > 0 } pools ? pools : "-"),
                    new Text(s.Reservations.Count.ToString(CultureInfo.InvariantCulture)),
                    new Text(DhcpOptionArguments.Format(s.Options)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpSubnetAddSettings : DhcpEditSettings
{
    [CommandOption("--id <ID>")]
    [Description("The subnet's id, unique in each server's configuration (Kea keys leases and statistics by it)")]
    public long? Id { get; init; }

    [CommandOption("--subnet <PREFIX>")]
    [Description("The subnet, such as 192.0.2.0/24 or 2001:db8:1::/64")]
    public string? Subnet { get; init; }

    [CommandOption("--pool <FIRST-LAST>")]
    [Description("An address pool, first-last or a prefix (repeat for several)")]
    public string[] Pools { get; init; } = [];

    [CommandOption("--option <NAME=DATA>")]
    [Description("An option of the subnet, such as routers=192.0.2.1 (repeat for several)")]
    public string[] Options { get; init; } = [];
}

/// <summary>msctl dhcp subnets add --id 1 --subnet P --pool R -s SERVER: a subnet on each server.</summary>
internal sealed class DhcpSubnetAddCommand(CliHost host) : ApiCommand<DhcpSubnetAddSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpSubnetAddSettings settings, CancellationToken cancellationToken)
    {
        var options = DhcpOptionArguments.Parse(settings.Options);
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        var result = await api.CreateDhcpSubnetAsync(new DhcpSubnetRequest(
            settings.Family, settings.Id, settings.Subnet, settings.Pools, Options: options.Count > 0 ? options : null, Servers: servers), cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => DhcpSubnetLines.Changed(Host, "Added", result.Value, settings.Servers));
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpSubnetDeleteSettings : DhcpEditSettings
{
    [CommandArgument(0, "<SUBNET-ID>")]
    [Description("The subnet's id")]
    public long SubnetId { get; init; }

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation")]
    public bool Yes { get; init; }
}

/// <summary>msctl dhcp subnets delete ID -s SERVER: removes the subnet, its pools and reservations (asks first).</summary>
internal sealed class DhcpSubnetDeleteCommand(CliHost host) : ApiCommand<DhcpSubnetDeleteSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpSubnetDeleteSettings settings, CancellationToken cancellationToken)
    {
        Confirmation.Check(Host, settings.Yes, "delete a subnet");
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        if (!await Confirmation.AskAsync(Host, settings.Yes, $"Delete DHCPv{settings.Family} subnet {settings.SubnetId}, its pools and reservations, from {string.Join(", ", settings.Servers)}?", "deleted", cancellationToken))
        {
            return ExitCodes.Ok;
        }

        await api.DeleteDhcpSubnetAsync(settings.SubnetId, settings.Family, servers, cancellationToken);
        Host.Console.MarkupLineInterpolated($"[green]Deleted[/] DHCPv{settings.Family} subnet {settings.SubnetId} from {string.Join(", ", settings.Servers)}; a push sends it.");
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpPoolSettings : DhcpEditSettings
{
    [CommandArgument(0, "<SUBNET-ID>")]
    [Description("The subnet's id")]
    public long SubnetId { get; init; }

    [CommandArgument(1, "<POOL>")]
    [Description("first-last, or a prefix")]
    public string Pool { get; init; } = "";
}

/// <summary>msctl dhcp pools add|delete SUBNET-ID POOL -s SERVER.</summary>
internal abstract class DhcpPoolCommand(CliHost host, bool add) : ApiCommand<DhcpPoolSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpPoolSettings settings, CancellationToken cancellationToken)
    {
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        var result = add
            ? await api.AddDhcpPoolAsync(settings.SubnetId, new DhcpPoolRequest(settings.Family, settings.Pool, servers), cancellationToken)
            : await api.RemoveDhcpPoolAsync(settings.SubnetId, settings.Pool, settings.Family, servers, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => DhcpSubnetLines.Changed(Host, add ? "Added a pool to" : "Removed a pool from", result.Value, settings.Servers));
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpPoolAddCommand(CliHost host) : DhcpPoolCommand(host, add: true);

internal sealed class DhcpPoolDeleteCommand(CliHost host) : DhcpPoolCommand(host, add: false);

internal class DhcpClientSettings : DhcpEditSettings
{
    [CommandArgument(0, "<SUBNET-ID>")]
    [Description("The subnet's id")]
    public long SubnetId { get; init; }

    [CommandOption("--hw-address <MAC>")]
    [Description("The client's MAC address, such as 1a:1b:1c:1d:1e:1f")]
    public string? HwAddress { get; init; }

    [CommandOption("--client-id <HEX>")]
    [Description("The client's DHCPv4 client identifier")]
    public string? ClientId { get; init; }

    [CommandOption("--duid <HEX>")]
    [Description("The client's DUID (DHCPv6)")]
    public string? Duid { get; init; }

    /// <summary>The identifier given, as the API names its type; the API refuses none or several with the field named.</summary>
    public (string Type, string Value) Identifier =>
        HwAddress is not null ? ("hw_address", HwAddress) : ClientId is not null ? ("client_id", ClientId) : Duid is not null ? ("duid", Duid)
        : throw new CliUsageException("give the client: --hw-address, --client-id or --duid");
}

internal sealed class DhcpReservationAddSettings : DhcpClientSettings
{
    [CommandOption("--ip <ADDRESS>")]
    [Description("The address reserved (repeat for several DHCPv6 addresses)")]
    public string[] Addresses { get; init; } = [];

    [CommandOption("--prefix <PREFIX>")]
    [Description("A DHCPv6 prefix reserved (repeat for several)")]
    public string[] Prefixes { get; init; } = [];

    [CommandOption("--hostname <NAME>")]
    [Description("The host name given to the client")]
    public string? Hostname { get; init; }
}

/// <summary>msctl dhcp reservations add SUBNET-ID --hw-address M --ip A -s SERVER (the same client's reservation is replaced).</summary>
internal sealed class DhcpReservationAddCommand(CliHost host) : ApiCommand<DhcpReservationAddSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpReservationAddSettings settings, CancellationToken cancellationToken)
    {
        _ = settings.Identifier;
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        var v4 = settings.Family == 4;
        var request = new DhcpReservationRequest
        {
            Family = settings.Family,
            Servers = servers,
            HwAddress = settings.HwAddress,
            ClientId = settings.ClientId,
            Duid = settings.Duid,
            IpAddress = v4 && settings.Addresses.Length == 1 ? settings.Addresses[0] : null,
            IpAddresses = v4 && settings.Addresses.Length == 1 ? null : settings.Addresses.Length > 0 ? settings.Addresses : null,
            Prefixes = settings.Prefixes.Length > 0 ? settings.Prefixes : null,
            Hostname = settings.Hostname,
        };
        var result = await api.PutDhcpReservationAsync(settings.SubnetId, request, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => DhcpSubnetLines.Changed(Host, "Reserved in", result.Value, settings.Servers));
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpReservationDeleteSettings : DhcpClientSettings
{
    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation")]
    public bool Yes { get; init; }
}

/// <summary>msctl dhcp reservations delete SUBNET-ID --hw-address M -s SERVER (asks first).</summary>
internal sealed class DhcpReservationDeleteCommand(CliHost host) : ApiCommand<DhcpReservationDeleteSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpReservationDeleteSettings settings, CancellationToken cancellationToken)
    {
        var (type, value) = settings.Identifier;
        Confirmation.Check(Host, settings.Yes, "delete a reservation");
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        if (!await Confirmation.AskAsync(Host, settings.Yes, $"Delete the reservation of {value} from subnet {settings.SubnetId} on {string.Join(", ", settings.Servers)}?", "deleted", cancellationToken))
        {
            return ExitCodes.Ok;
        }

        var result = await api.RemoveDhcpReservationAsync(settings.SubnetId, type, value, settings.Family, servers, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => DhcpSubnetLines.Changed(Host, "Removed a reservation from", result.Value, settings.Servers));
        return ExitCodes.Ok;
    }
}

internal static class DhcpSubnetLines
{
    /// <summary>One line saying what changed, and the subnet as it now is.</summary>
    public static void Changed(CliHost host, string what, DhcpSubnetView s, IEnumerable<string> servers)
    {
        host.Console.MarkupLineInterpolated($"[green]{what}[/] DHCPv{s.Family} subnet {s.Id} ({s.Subnet}) on {string.Join(", ", servers)}; [bold]msctl servers push-config[/] sends it.");
        host.Console.MarkupLineInterpolated($"  pools: {(s.Pools.Count == 0 ? "none" : string.Join(", ", s.Pools))}; reservations: {s.Reservations.Count}");
    }
}

/// <summary>--option NAME=DATA arguments.</summary>
internal static class DhcpOptionArguments
{
    public static List<DhcpOptionData> Parse(IEnumerable<string> options) => [.. options.Select(o => o.Split('=', 2)).Select(p => p.Length == 2
        ? new DhcpOptionData(Name: p[0].Trim(), Data: p[1].Trim())
        : throw new CliUsageException($"--option '{p[0]}' must be NAME=DATA, such as routers=192.0.2.1"))];

    /// <summary>Options as a table cell: <c>name=data, …</c> (by code when unnamed), or "-".</summary>
    public static string Format(IEnumerable<DhcpOptionData> options) =>
        string.Join(", ", options.Select(o => $"{o.Name ?? o.Code?.ToString(CultureInfo.InvariantCulture)}={o.Data}")) is { Length: > 0 } text ? text : "-";
}
