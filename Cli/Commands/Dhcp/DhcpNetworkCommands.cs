using System.ComponentModel;
using System.Globalization;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dhcp;

/// <summary>msctl dhcp shared-networks list SERVER: the shared networks and the subnets on each link.</summary>
internal sealed class DhcpSharedNetworksCommand(CliHost host) : ApiCommand<DhcpFamilySettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpFamilySettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListDhcpSharedNetworksAsync(server.Id, settings.Family, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Items.Count == 0)
            {
                Host.Console.MarkupLineInterpolated($"[bold]{server.Name}[/] has no DHCPv{settings.Family} shared networks: put subnets on one link with [bold]msctl dhcp shared-networks add NAME --subnet 1 --subnet 2 -s {server.Name}[/].");
                return;
            }

            var table = Tables.Create("Name", "Interface", "Subnets", "Options");
            foreach (var n in result.Value.Items)
            {
                table.AddRow(
                    new Text(n.Name),
                    new Text(n.Interface ?? "-"),
                    new Text(string.Join(", ", n.Subnets.Select(i => i.ToString(CultureInfo.InvariantCulture))) is { Length: > 0 } ids ? ids : "-"),
                    new Text(DhcpOptionArguments.Format(n.Options)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpSharedNetworkAddSettings : DhcpEditSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The shared network's name")]
    public string Name { get; init; } = string.Empty;

    [CommandOption("--subnet <ID>")]
    [Description("A subnet on the network's link, by id (repeat for several; it moves into the network)")]
    public long[] Subnets { get; init; } = [];

    [CommandOption("--interface <NAME>")]
    [Description("The interface the link is on (directly connected networks)")]
    public string? Interface { get; init; }

    [CommandOption("--option <NAME=DATA>")]
    [Description("An option of the network, such as routers=192.0.2.1 (repeat for several)")]
    public string[] Options { get; init; } = [];
}

/// <summary>msctl dhcp shared-networks add NAME --subnet ID… -s SERVER.</summary>
internal sealed class DhcpSharedNetworkAddCommand(CliHost host) : ApiCommand<DhcpSharedNetworkAddSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpSharedNetworkAddSettings settings, CancellationToken cancellationToken)
    {
        var options = DhcpOptionArguments.Parse(settings.Options);
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        var result = await api.CreateDhcpSharedNetworkAsync(
            new DhcpSharedNetworkRequest(settings.Family, settings.Name, settings.Interface, options.Count > 0 ? options : null, settings.Subnets, servers), cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Host.Console.MarkupLineInterpolated(
            $"[green]Added[/] DHCPv{settings.Family} shared network {result.Value.Name} with subnets {string.Join(", ", result.Value.Subnets)} on {string.Join(", ", settings.Servers)}; a push sends it."));
        return ExitCodes.Ok;
    }
}

internal sealed class DhcpNamedDeleteSettings : DhcpEditSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The name")]
    public string Name { get; init; } = string.Empty;

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation")]
    public bool Yes { get; init; }
}

/// <summary>msctl dhcp shared-networks delete NAME -s SERVER (asks first; its subnets stay).</summary>
internal sealed class DhcpSharedNetworkDeleteCommand(CliHost host) : ApiCommand<DhcpNamedDeleteSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpNamedDeleteSettings settings, CancellationToken cancellationToken) =>
        await DhcpNamedDelete.RunAsync(Host, api, settings, "shared network", "its subnets stay, on their own", api.DeleteDhcpSharedNetworkAsync, cancellationToken);
}

internal sealed class DhcpClientClassAddSettings : DhcpEditSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The class's name")]
    public string Name { get; init; } = string.Empty;

    [CommandOption("--test <EXPRESSION>")]
    [Description("Kea's test expression for membership, such as \"substring(option[60].hex,0,7) == 'printer'\"")]
    public string? Test { get; init; }

    [CommandOption("--option <NAME=DATA>")]
    [Description("An option the class's members get (repeat for several)")]
    public string[] Options { get; init; } = [];
}

/// <summary>msctl dhcp classes list SERVER: the client classes.</summary>
internal sealed class DhcpClientClassesCommand(CliHost host) : ApiCommand<DhcpFamilySettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpFamilySettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListDhcpClientClassesAsync(server.Id, settings.Family, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Items.Count == 0)
            {
                Host.Console.MarkupLineInterpolated($"[bold]{server.Name}[/] has no DHCPv{settings.Family} client classes: add one with [bold]msctl dhcp classes add NAME --test EXPRESSION -s {server.Name}[/].");
                return;
            }

            var table = Tables.Create("Name", "Test", "Options");
            foreach (var c in result.Value.Items)
            {
                table.AddRow(new Text(c.Name), new Text(c.Test ?? "-"), new Text(DhcpOptionArguments.Format(c.Options)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}

/// <summary>msctl dhcp classes add NAME --test EXPR -s SERVER.</summary>
internal sealed class DhcpClientClassAddCommand(CliHost host) : ApiCommand<DhcpClientClassAddSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpClientClassAddSettings settings, CancellationToken cancellationToken)
    {
        var options = DhcpOptionArguments.Parse(settings.Options);
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        var result = await api.CreateDhcpClientClassAsync(new DhcpClientClassRequest(settings.Family, settings.Name, settings.Test, options.Count > 0 ? options : null, servers), cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Host.Console.MarkupLineInterpolated(
            $"[green]Added[/] DHCPv{settings.Family} client class {result.Value.Name} on {string.Join(", ", settings.Servers)}; a push sends it."));
        return ExitCodes.Ok;
    }
}

/// <summary>msctl dhcp classes delete NAME -s SERVER (asks first; refused while something names the class).</summary>
internal sealed class DhcpClientClassDeleteCommand(CliHost host) : ApiCommand<DhcpNamedDeleteSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpNamedDeleteSettings settings, CancellationToken cancellationToken) =>
        await DhcpNamedDelete.RunAsync(Host, api, settings, "client class", null, api.DeleteDhcpClientClassAsync, cancellationToken);
}

/// <summary>The delete of a named DHCP object: confirmation, the call, one line.</summary>
internal static class DhcpNamedDelete
{
    public static async Task<int> RunAsync(
        CliHost host, ApiClient api, DhcpNamedDeleteSettings settings, string what, string? after, Func<string, int, IEnumerable<string>, CancellationToken, Task> delete, CancellationToken cancellationToken)
    {
        Confirmation.Check(host, settings.Yes, $"delete a {what}");
        var servers = await settings.ServerIdsAsync(api, cancellationToken);
        if (!await Confirmation.AskAsync(host, settings.Yes, $"Delete DHCPv{settings.Family} {what} {settings.Name} from {string.Join(", ", settings.Servers)}?", "deleted", cancellationToken))
        {
            return ExitCodes.Ok;
        }

        await delete(settings.Name, settings.Family, servers, cancellationToken);
        host.Console.MarkupLineInterpolated($"[green]Deleted[/] DHCPv{settings.Family} {what} {settings.Name} from {string.Join(", ", settings.Servers)}{(after is null ? string.Empty : "; " + after)}; a push sends it.");
        return ExitCodes.Ok;
    }
}
