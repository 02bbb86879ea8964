using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class ListServersSettings : OutputSettings
{
    [CommandOption("-q|--query <TEXT>")]
    [Description("Search text, as the API's q parameter (also accepted as --q)")]
    public string? Query { get; init; }

    [CommandOption("--page <N>")]
    [Description("Page number, from 1")]
    public int? Page { get; init; }

    [CommandOption("--per-page <N>")]
    [Description("Servers per page")]
    public int? PerPage { get; init; }

    [CommandOption("--sort <FIELD>")]
    [Description("Sort field: [green]name[/], [green]state[/], [green]last_heartbeat[/]...; prefix with - for descending (e.g. -name)")]
    public string? Sort { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : Page is < 1 ? ValidationResult.Error("--page must be 1 or more")
        : PerPage is < 1 ? ValidationResult.Error("--per-page must be 1 or more")
        : ValidationResult.Success();
}

/// <summary>msctl servers list.</summary>
internal sealed class ListServersCommand(CliHost host) : ApiCommand<ListServersSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ListServersSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.ListServersAsync(new ServerQuery(settings.Query, settings.Page, settings.PerPage, settings.Sort), cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Render(result.Value, settings));
        return ExitCodes.Ok;
    }

    private void Render(PageOf<ServerView> page, ListServersSettings settings)
    {
        var console = Host.Console;
        if (page.Items.Count == 0)
        {
            if (page.Total == 0 && string.IsNullOrEmpty(settings.Query))
            {
                console.MarkupLine("No servers yet. Add one with: [bold]msctl servers add NAME --kind dns[/]");
            }
            else if (page.Total == 0)
            {
                console.MarkupLineInterpolated($"No servers match '{settings.Query}'.");
            }
            else
            {
                console.MarkupLineInterpolated($"No servers on page {page.Page} ({page.Total} in total).");
            }

            return;
        }

        var now = Host.Time.GetUtcNow();
        var table = Tables.Create(
            Tables.Column("Name"),
            Tables.Column("Id"),
            Tables.Column("Kind"),
            Tables.Column("State"),
            Tables.Column("Last heartbeat"),
            Tables.Column("Requests 2 min", right: true),
            Tables.Column("Monitor"),
            Tables.Column("DNS"),
            Tables.Column("DHCP"));
        foreach (var s in page.Items)
        {
            table.AddRow(
                new Text(s.Name, new Style(decoration: Decoration.Bold)),
                OutputFormat.Cell(s.Id),
                OutputFormat.Cell(s.Kind),
                OutputFormat.State(s.State),
                OutputFormat.Cell(OutputFormat.Ago(s.LastHeartbeat, now)),
                OutputFormat.Cell(s.Requests2m.ToString()),
                OutputFormat.Cell(s.Versions?.Monitor),
                OutputFormat.Cell(s.Versions?.Dns),
                OutputFormat.Cell(DhcpVersions(s.Versions)));
        }

        Tables.Write(Host, table);
        var perPage = page.PerPage > 0 ? page.PerPage : page.Items.Count;
        var first = ((page.Page - 1) * perPage) + 1;
        var last = first + page.Items.Count - 1;
        console.MarkupLineInterpolated($"[grey]Showing {first}–{last} of {page.Total}[/]");
    }

    /// <summary>The DHCP column as operators read it: "IPv4: 2.2.0 - IPv6: 2.2.0" from what runs (one family alone when only one runs).</summary>
    internal static string? DhcpVersions(ComponentVersions? versions) => (versions?.Dhcp4, versions?.Dhcp6) switch
    {
        ({ } v4, { } v6) => $"IPv4: {v4} - IPv6: {v6}",
        ({ } v4, null) => $"IPv4: {v4}",
        (null, { } v6) => $"IPv6: {v6}",
        _ => null,
    };
}
