using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Jobs;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dns;

internal sealed class ServerZonesSettings : ServerIdSettings
{
    [CommandOption("--add <ZONES>")]
    [Description("Assign these zones too (comma-separated), keeping the others; they reach the server with the next push")]
    public string? Add { get; init; }

    [CommandOption("--remove <ZONES>")]
    [Description("Unassign these zones (comma-separated), keeping the others; the next push stops serving them")]
    public string? Remove { get; init; }

    [CommandOption("--set <ZONES>")]
    [Description("Assign exactly these zones (comma-separated; \"\" unassigns all), unassigning every other one")]
    public string? Set { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : Set is not null && (Add is not null || Remove is not null) ? ValidationResult.Error("use --set alone, or --add/--remove")
        : Add is not null && Names(Add).Length == 0 ? ValidationResult.Error("--add needs at least one zone name")
        : Remove is not null && Names(Remove).Length == 0 ? ValidationResult.Error("--remove needs at least one zone name")
        : ValidationResult.Success();

    public static string[] Names(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// msctl servers zones SERVER [--add a,b] [--remove c] [--set a,b]: the zones assigned and whether each is live at its
/// serial; --add and --remove change only the zones named, --set replaces the whole assignment.
/// </summary>
internal sealed class ServerZonesCommand(CliHost host) : ApiCommand<ServerZonesSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerZonesSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        ApiResult<ServerDnsView>? result = null;
        if (settings.Set is { } set)
        {
            result = await api.SetServerZonesAsync(server.Id, ServerZonesSettings.Names(set), cancellationToken);
        }

        foreach (var zone in settings.Add is { } add ? ServerZonesSettings.Names(add) : [])
        {
            result = await api.AssignServerZoneAsync(server.Id, zone, cancellationToken);
        }

        foreach (var zone in settings.Remove is { } remove ? ServerZonesSettings.Names(remove) : [])
        {
            result = await api.UnassignServerZoneAsync(server.Id, zone, cancellationToken);
        }

        result ??= await api.GetServerZonesAsync(server.Id, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Render(server, result.Value));
        return ExitCodes.Ok;
    }

    private void Render(ServerView server, ServerDnsView dns)
    {
        var console = Host.Console;
        if (dns.Zones.Count == 0)
        {
            console.MarkupLineInterpolated($"[bold]{server.Name}[/] serves no zones yet. Assign some with: [bold]msctl servers zones {server.Name} --add example.test[/], then [bold]msctl servers push-zones {server.Name}[/]");
            return;
        }

        var table = Tables.Create("Zone", "Serial", "Live serial", "Applied", "State");
        var now = Host.Time.GetUtcNow();
        foreach (var z in dns.Zones)
        {
            table.AddRow(
                new Text(z.Zone),
                OutputFormat.Cell(z.Serial?.ToString(CultureInfo.InvariantCulture)),
                OutputFormat.Cell(z.AppliedSerial?.ToString(CultureInfo.InvariantCulture)),
                new Text(z.AppliedAt is { } at ? OutputFormat.Ago(at, now) : "-"),
                new Text(z.State.Replace('_', ' '), new Style(z.State switch
                {
                    "in_sync" => Color.Green,
                    "deleted" => Color.Red,
                    _ => Color.Yellow,
                })));
        }

        Tables.Write(Host, table);
        var pending = dns.Zones.Count(z => z.State is "changed" or "not_pushed");
        console.MarkupLineInterpolated($"Configuration version live: [bold]{(dns.LiveVersion is { } v ? v.ToString(CultureInfo.InvariantCulture) : "none")}[/]; listen: {(dns.Listen.Count == 0 ? "port 53 on all addresses" : string.Join(", ", dns.Listen))}.");
        if (pending > 0)
        {
            console.MarkupLineInterpolated($"{pending} zone{(pending == 1 ? string.Empty : "s")} to push: [bold]msctl servers push-zones {server.Name}[/]");
        }
    }
}

internal sealed class PushZonesSettings : JobSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandOption("--full")]
    [Description("Send every zone assigned, not only those changed since the server's last applied version")]
    public bool Full { get; init; }

    [CommandOption("--all-or-nothing")]
    [Description("Apply every zone or none: one zone knotd would not load refuses the whole push (by default the others apply and the refused one is named)")]
    public bool AllOrNothing { get; init; }

    [CommandOption("--family <4|6>")]
    [Description("DHCP servers: the configuration to push (default: the one the server has, 4 when both)")]
    public int? Family { get; init; }

    [CommandOption("--acknowledge-warnings")]
    [Description("DHCP servers: push although the review warns (errors always refuse)")]
    public bool AcknowledgeWarnings { get; init; }
}

/// <summary>
/// msctl servers push-zones SERVER [--full] [--all-or-nothing] and msctl servers push-config SERVER: a job followed with a
/// progress bar. A zone knotd would not load fails the job with its name and reason (exit 1); the others are applied
/// unless --all-or-nothing.
/// </summary>
internal abstract class PushCommand(CliHost host, bool zones) : ApiCommand<PushZonesSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, PushZonesSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var started = zones
            ? await api.PushZonesAsync(server.Id, settings.Full, settings.AllOrNothing, cancellationToken)
            : await api.PushConfigAsync(server.Id, settings.AllOrNothing, cancellationToken, settings.Family, settings.AcknowledgeWarnings);
        var done = await JobFollower.FollowAsync(Host, api, started, settings, $"{(zones ? "push zones" : "push config")} to {server.Name}", cancellationToken);
        PushSummary.Write(Host, settings, done.Value);
        return ExitCodes.Ok;
    }
}

internal sealed class PushZonesCommand(CliHost host) : PushCommand(host, zones: true);

internal sealed class PushConfigCommand(CliHost host) : PushCommand(host, zones: false);

internal static class PushSummary
{
    /// <summary>After a finished push (table mode): the version live and the zones sent.</summary>
    public static void Write(CliHost host, JobSettings settings, JobView job)
    {
        if (settings.NoWait || settings.Output != OutputMode.Table || !JobFollower.IsFinished(job) || job.Result is not { } result
            || result.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (result.TryGetProperty("live_version", out var dhcpVersion))
        {
            var subnets = result.TryGetProperty("subnets", out var s) && s.ValueKind == JsonValueKind.Array ? s.GetArrayLength() : 0;
            host.Console.MarkupLineInterpolated($"[green]Done[/]: DHCP configuration version [bold]{dhcpVersion}[/] is live; Kea serves {subnets} subnet{(subnets == 1 ? string.Empty : "s")}.");
            return;
        }

        var version = result.TryGetProperty("config_version", out var v) ? v.ToString() : "?";
        var changed = result.TryGetProperty("config_changed", out var c) && c.ValueKind == JsonValueKind.True;
        var zones = result.TryGetProperty("zones", out var z) && z.ValueKind == JsonValueKind.Array ? z.EnumerateArray().ToList() : [];
        var sent = zones.Count(e => e.TryGetProperty("sent", out var s) && s.ValueKind == JsonValueKind.True);
        host.Console.MarkupLineInterpolated(
            $"[green]Done[/]: configuration version [bold]{version}[/] {(changed ? "is live" : "unchanged")}; {zones.Count} zone{(zones.Count == 1 ? string.Empty : "s")} served, {sent} sent.");
        if (result.TryGetProperty("warnings", out var w) && w.ValueKind == JsonValueKind.Array)
        {
            foreach (var warning in w.EnumerateArray())
            {
                host.Error.WriteLine($"warning: {warning.GetString()}");
            }
        }
    }
}

/// <summary>msctl servers config-versions SERVER: the applied configuration versions.</summary>
internal sealed class ConfigVersionsCommand(CliHost host) : ApiCommand<ServerIdSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerIdSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListConfigVersionsAsync(server.Id, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Length == 0)
            {
                Host.Console.MarkupLineInterpolated($"No configuration pushed to [bold]{server.Name}[/] yet: [bold]msctl servers push-config {server.Name}[/]");
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create("Version", "Applied", "Job", "Zones", "SHA-256", "Live");
            foreach (var v in result.Value)
            {
                table.AddRow(
                    new Text(v.Version.ToString(CultureInfo.InvariantCulture)),
                    new Text(OutputFormat.Ago(v.AppliedAt, now)),
                    new Text(v.JobId),
                    new Text(v.ZoneCount.ToString(CultureInfo.InvariantCulture)),
                    new Text(v.Sha256[..12]),
                    new Text(v.Live ? "live" : string.Empty, new Style(Color.Green)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}

internal sealed class ConfigVersionSettings : JobSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandArgument(1, "<VERSION>")]
    [Description("Configuration version number")]
    public int Version { get; init; }

    [CommandOption("--from <VERSION>")]
    [Description("diff: the version to compare with (default: the one before)")]
    public int? From { get; init; }
}

/// <summary>msctl servers config-diff SERVER VERSION [--from N]: unified diff of knot.conf.</summary>
internal sealed class ConfigDiffCommand(CliHost host) : ApiCommand<ConfigVersionSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ConfigVersionSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.DiffConfigVersionsAsync(server.Id, settings.Version, settings.From, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Identical)
            {
                Host.Console.MarkupLineInterpolated($"Versions {result.Value.From} and {result.Value.To} have the same knot.conf.");
                return;
            }

            foreach (var line in result.Value.Diff.Split('\n'))
            {
                var style = line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) ? new Style(decoration: Decoration.Bold)
                    : line.StartsWith('+') ? new Style(Color.Green)
                    : line.StartsWith('-') ? new Style(Color.Red)
                    : line.StartsWith("@@", StringComparison.Ordinal) ? new Style(Color.Aqua)
                    : Style.Plain;
                Host.Console.Write(new Text(line + "\n", style));
            }
        });
        return ExitCodes.Ok;
    }
}

/// <summary>msctl servers config-revert SERVER VERSION: re-apply an earlier version (a job).</summary>
internal sealed class ConfigRevertCommand(CliHost host) : ApiCommand<ConfigVersionSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ConfigVersionSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var started = await api.RevertConfigAsync(server.Id, settings.Version, cancellationToken);
        var done = await JobFollower.FollowAsync(Host, api, started, settings, $"re-apply version {settings.Version} on {server.Name}", cancellationToken);
        PushSummary.Write(Host, settings, done.Value);
        return ExitCodes.Ok;
    }
}
