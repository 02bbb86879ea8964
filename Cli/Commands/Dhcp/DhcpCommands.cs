using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dhcp;

internal sealed class DhcpImportSettings : ServerIdSettings
{
    [CommandArgument(1, "<FILE>")]
    [Description("A Kea configuration file ({\"Dhcp4\": …} or {\"Dhcp6\": …}); - reads standard input")]
    public string File { get; init; } = "";
}

internal sealed class DhcpFamilySettings : ServerIdSettings
{
    [CommandOption("--family <4|6>")]
    [Description("DHCPv4 (default) or DHCPv6")]
    [DefaultValue(4)]
    public int Family { get; init; } = 4;
}

/// <summary>msctl dhcp import SERVER FILE: a whole Kea configuration as the server's; what was modelled, kept verbatim, and the review.</summary>
internal sealed class DhcpImportCommand(CliHost host) : ApiCommand<DhcpImportSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpImportSettings settings, CancellationToken cancellationToken)
    {
        string document;
        try
        {
            document = settings.File == "-" ? await Console.In.ReadToEndAsync(cancellationToken) : await System.IO.File.ReadAllTextAsync(settings.File, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {settings.File}: {e.Message}");
        }

        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ImportDhcpAsync(server.Id, document, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var s = result.Value;
            Host.Console.MarkupLineInterpolated(
                $"[green]Imported[/] the DHCPv{s.Family} configuration of [bold]{server.Name}[/]: {s.Subnets} subnets ({s.SharedNetworks} shared networks), {s.Pools} pools, {s.PdPools} PD pools, {s.Reservations} reservations, {s.Options} options, {s.OptionDefs} option definitions, {s.ClientClasses} classes.");
            if (s.Verbatim.Count > 0)
            {
                Host.Console.MarkupLineInterpolated($"Kept as they are ({s.Verbatim.Count}): {string.Join(", ", s.Verbatim.Take(12))}{(s.Verbatim.Count > 12 ? ", …" : string.Empty)}");
            }

            foreach (var note in s.Notes)
            {
                Host.Console.MarkupLineInterpolated($"note: {note}");
            }

            DhcpFindings.Write(Host, s.Findings, server.Name);
        });
        return ExitCodes.Ok;
    }
}

/// <summary>msctl dhcp rendered SERVER [--family 6]: the Kea document a push would send now.</summary>
internal sealed class DhcpRenderedCommand(CliHost host) : ApiCommand<DhcpFamilySettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpFamilySettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        Host.Out.Write(await api.RenderedDhcpAsync(server.Id, settings.Family, cancellationToken));
        return ExitCodes.Ok;
    }
}

/// <summary>msctl dhcp review SERVER [--family 6]: what the review says before a push.</summary>
internal sealed class DhcpReviewCommand(CliHost host) : ApiCommand<DhcpFamilySettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpFamilySettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ReviewDhcpAsync(server.Id, settings.Family, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => DhcpFindings.Write(Host, result.Value, server.Name));
        return ExitCodes.Ok;
    }
}

internal static class DhcpFindings
{
    /// <summary>The review as a table: errors first, then warnings; or a line saying it is clean.</summary>
    public static void Write(CliHost host, IReadOnlyList<DhcpFindingView> findings, string server)
    {
        if (findings.Count == 0)
        {
            host.Console.MarkupLineInterpolated($"Review: nothing to report; [bold]msctl servers push-config {server}[/] pushes it.");
            return;
        }

        var table = Tables.Create("Severity", "Check", "Object", "Message");
        foreach (var f in findings.OrderBy(f => f.Severity == "error" ? 0 : 1))
        {
            table.AddRow(new Text(f.Severity, new Style(f.Severity == "error" ? Color.Red : Color.Yellow)), new Text(f.Check), new Text(f.Object), new Text(f.Message));
        }

        Tables.Write(host, table);
        var errors = findings.Count(f => f.Severity == "error");
        if (errors > 0)
        {
            host.Console.MarkupLineInterpolated($"{errors} error(s): a push is refused until they are fixed.");
        }
        else
        {
            host.Console.MarkupLineInterpolated($"{findings.Count} warning(s): push with [bold]msctl servers push-config {server} --acknowledge-warnings[/].");
        }
    }
}
