using System.ComponentModel;
using System.Globalization;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dhcp;

internal sealed class DhcpLeasesSettings : ServerIdSettings
{
    [CommandOption("--search <TEXT>")]
    [Description("One client's leases: an address, a MAC address, a client-id or DUID (hex), or a host name")]
    public string? Search { get; init; }

    [CommandOption("--family <4|6>")]
    [Description("Only DHCPv4 or DHCPv6 (default: every DHCP service of the server; paging needs one)")]
    public int? Family { get; init; }

    [CommandOption("--limit <N>")]
    [Description("Leases per page (1-1000, default 100)")]
    public int? Limit { get; init; }

    [CommandOption("--from <ADDRESS>")]
    [Description("The page after this address (the 'next' the page before printed)")]
    public string? From { get; init; }
}

/// <summary>msctl dhcp leases SERVER [--search TEXT]: the leases Kea holds now, or one client's.</summary>
internal sealed class DhcpLeasesCommand(CliHost host) : ApiCommand<DhcpLeasesSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpLeasesSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListDhcpLeasesAsync(server.Id, settings.Search, settings.Family, settings.From, settings.Limit, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var leases = result.Value;
            if (leases.Items.Count == 0)
            {
                if (settings.Search is null)
                {
                    Host.Console.MarkupLineInterpolated($"[bold]{server.Name}[/] holds no leases{(settings.From is null ? string.Empty : $" after {settings.From}")}.");
                }
                else
                {
                    Host.Console.MarkupLineInterpolated($"No lease of [bold]{settings.Search}[/] (taken as {leases.SearchedBy}) on [bold]{server.Name}[/].");
                }

                return;
            }

            var table = Tables.Create("Address", "MAC", "Client", "Hostname", "Subnet", "Expires", "State");
            var now = DateTimeOffset.UtcNow;
            foreach (var l in leases.Items)
            {
                table.AddRow(
                    new Text(l.PrefixLen is { } len ? $"{l.Address}/{len}" : l.Address),
                    new Text(l.HwAddress ?? "-"),
                    new Text(l.ClientId ?? l.Duid ?? "-"),
                    new Text(l.Hostname ?? "-"),
                    new Text(l.SubnetId.ToString(CultureInfo.InvariantCulture)),
                    new Text(l.ExpiresAt is { } at ? $"{at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z ({Humanize(at - now)})" : "-"),
                    new Text(l.State, new Style(l.State == "assigned" ? Color.Green : Color.Yellow)));
            }

            Tables.Write(Host, table);
            if (leases.Next is { } next)
            {
                Host.Console.MarkupLineInterpolated($"More: [bold]msctl dhcp leases {server.Name} --family {settings.Family} --from {next}[/]");
            }
        });
        return ExitCodes.Ok;
    }

    private static string Humanize(TimeSpan left) =>
        left <= TimeSpan.Zero ? "expired" : left.TotalHours >= 1 ? $"in {(int)left.TotalHours} h {left.Minutes} min" : $"in {(int)left.TotalMinutes} min";
}

internal sealed class DhcpLeaseDeleteSettings : ServerIdSettings
{
    [CommandArgument(1, "<ADDRESS>")]
    [Description("The leased address")]
    public string Address { get; init; } = "";

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation")]
    public bool Yes { get; init; }
}

/// <summary>msctl dhcp lease-delete SERVER ADDRESS: Kea forgets the lease (asks first).</summary>
internal sealed class DhcpLeaseDeleteCommand(CliHost host) : ApiCommand<DhcpLeaseDeleteSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpLeaseDeleteSettings settings, CancellationToken cancellationToken)
    {
        Confirmation.Check(Host, settings.Yes, "delete a lease");
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        if (!await Confirmation.AskAsync(Host, settings.Yes, $"Delete the lease of {settings.Address} on {server.Name}? Its client may keep using the address until it next asks.", "deleted", cancellationToken))
        {
            return ExitCodes.Ok;
        }

        await api.DeleteDhcpLeaseAsync(server.Id, settings.Address, cancellationToken);
        Host.Console.MarkupLineInterpolated($"[green]Deleted[/] the lease of {settings.Address} on [bold]{server.Name}[/].");
        return ExitCodes.Ok;
    }
}
