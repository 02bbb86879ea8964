using System.ComponentModel;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Zones;

internal class ZoneSettings : OutputSettings
{
    [CommandArgument(0, "<ZONE>")]
    [Description("Zone name, e.g. example.com")]
    public string Zone { get; init; } = "";
}

internal sealed class ListZonesSettings : OutputSettings
{
    [CommandOption("-q|--query <TEXT>")]
    [Description("Search text in zone names (also accepted as --q)")]
    public string? Query { get; init; }

    [CommandOption("--page <N>")]
    [Description("Page number, from 1")]
    public int? Page { get; init; }

    [CommandOption("--per-page <N>")]
    [Description("Zones per page")]
    public int? PerPage { get; init; }

    [CommandOption("--sort <FIELD>")]
    [Description("Sort field: [green]name[/], [green]serial[/], [green]records[/], [green]updated_at[/], [green]created_at[/]; prefix - for descending")]
    public string? Sort { get; init; }
}

/// <summary>msctl zones list.</summary>
internal sealed class ListZonesCommand(CliHost host) : ApiCommand<ListZonesSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ListZonesSettings settings, CancellationToken cancellationToken)
    {
        var query = ApiClient.QueryString(("q", settings.Query), ("page", settings.Page?.ToString(CultureInfo.InvariantCulture)), ("per_page", settings.PerPage?.ToString(CultureInfo.InvariantCulture)), ("sort", settings.Sort));
        var result = await api.SendAsync<PageOf<ZoneView>>(HttpMethod.Get, "zones" + query, null, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Items.Count == 0)
            {
                Host.Console.MarkupLine(result.Value.Total == 0 ? "No zones. Import one with: [bold]msctl zones import FILE[/]" : "No zones on this page.");
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create(
                Tables.Column("Zone"), Tables.Column("Serial", right: true), Tables.Column("Records", right: true), Tables.Column("Size", right: true), Tables.Column("Updated"));
            foreach (var z in result.Value.Items)
            {
                table.AddRow(new Text(z.Name, new Style(decoration: Decoration.Bold)), OutputFormat.Cell(z.Serial.ToString(CultureInfo.InvariantCulture)),
                    OutputFormat.Cell(z.RecordCount.ToString("N0", CultureInfo.InvariantCulture)), OutputFormat.Cell(ZoneApi.Size(z.Size)), OutputFormat.Cell(OutputFormat.Ago(z.UpdatedAt, now)));
            }

            Tables.Write(Host, table);
            Host.Console.MarkupLineInterpolated($"[grey]{result.Value.Items.Count} of {result.Value.Total}[/]");
        });
        return ExitCodes.Ok;
    }
}

/// <summary>msctl zones show ZONE.</summary>
internal sealed class ShowZoneCommand(CliHost host) : ApiCommand<ZoneSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ZoneSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.SendAsync<ZoneView>(HttpMethod.Get, ZoneApi.Path(settings.Zone), null, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => ZoneApi.Print(Host, result.Value));
        return ExitCodes.Ok;
    }
}

internal sealed class ImportZoneSettings : OutputSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("RFC 1035 zone file ('-' for stdin)")]
    public string File { get; init; } = "";

    [CommandOption("--name <ZONE>")]
    [Description("Zone name; default: the file's first $ORIGIN, else the file name without .zone/.db")]
    public string? Name { get; init; }

    [CommandOption("--replace")]
    [Description("Replace the content of an existing zone (otherwise the zone must not exist)")]
    public bool Replace { get; init; }
}

/// <summary>
/// msctl zones import FILE: every error of a refused file is one "error: FILE:LINE: message" line (exit 1); an imported
/// file's warnings (what Knot loads but reports) are "warning: FILE:LINE: message" lines beside the success (exit 0).
/// </summary>
internal sealed partial class ImportZoneCommand(CliHost host) : ApiCommand<ImportZoneSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ImportZoneSettings settings, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = settings.File == "-" ? await Host.In.ReadToEndAsync(cancellationToken) : await System.IO.File.ReadAllTextAsync(Path.Combine(Host.WorkingDirectory, settings.File), cancellationToken);
        }
        catch (IOException ex)
        {
            throw new CliException($"cannot read {settings.File}: {ex.Message}");
        }

        var name = settings.Name ?? NameOf(text, settings.File) ?? throw new CliUsageException("cannot tell the zone's name: the file has no $ORIGIN; pass --name ZONE");
        try
        {
            var result = settings.Replace
                ? await api.SendAsync<ZoneImportView>(HttpMethod.Put, ZoneApi.Path(name) + "/file", JsonContent.Create(new ZoneFileRequest(text), options: ContractsJson.WireOptions), cancellationToken)
                : await api.SendAsync<ZoneImportView>(HttpMethod.Post, "zones", JsonContent.Create(new CreateZoneRequest(name, text), options: ContractsJson.WireOptions), cancellationToken);
            OutputFormat.Write(Host, settings.Output, result.Json, () =>
            {
                var warnings = result.Value.Warnings ?? [];
                Host.Console.MarkupLineInterpolated($"{(settings.Replace ? "Replaced" : "Imported")} zone [bold]{result.Value.Name}[/]: {result.Value.RecordCount:N0} records, serial {result.Value.Serial}{(warnings.Count == 0 ? "." : $", {warnings.Count}{(result.Value.WarningsTruncated ? "+" : string.Empty)} warning(s):")}");
                foreach (var warning in warnings)
                {
                    Host.Error.WriteLine(Located("warning", settings.File, warning));
                }

                if (result.Value.WarningsTruncated)
                {
                    Host.Error.WriteLine(Located("warning", settings.File, "more warnings not shown"));
                }

                Host.Error.Flush();
            });
            return ExitCodes.Ok;
        }
        catch (ApiException ex) when (ex.Errors.Any(e => e.Key == "zone_file"))
        {
            var file = settings.File == "-" ? "stdin" : Path.GetFileName(settings.File);
            foreach (var message in ex.Errors.Where(e => e.Key == "zone_file").SelectMany(e => e.Value))
            {
                Host.Error.WriteLine(Located("error", settings.File, message));
            }

            if (ex.Detail?.Contains("only the first", StringComparison.Ordinal) == true)
            {
                Host.Error.WriteLine($"error: {file}: more errors not shown");
            }

            Host.Error.Flush();
            return ExitCodes.Error;
        }
    }

    /// <summary>"error: FILE:LINE: message" for a "line N: message" from the API, "error: FILE: message" otherwise.</summary>
    private static string Located(string level, string path, string message)
    {
        var file = path == "-" ? "stdin" : Path.GetFileName(path);
        var match = LinePrefix().Match(message);
        return match.Success ? $"{level}: {file}:{match.Groups[1].Value}: {message[match.Length..]}" : $"{level}: {file}: {message}";
    }

    /// <summary>The first $ORIGIN's name ("." for the root zone), else the file name without a .zone/.db/.txt extension.</summary>
    internal static string? NameOf(string text, string file)
    {
        var origin = OriginLine().Match(text);
        if (origin.Success)
        {
            var value = origin.Groups[1].Value;
            return value == "." ? "." : value.TrimEnd('.');
        }

        if (file == "-")
        {
            return null;
        }

        var name = Path.GetFileName(file);
        foreach (var ext in new[] { ".zone", ".db", ".txt" })
        {
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase))
            {
                return name[..^ext.Length];
            }
        }

        return name.StartsWith("db.", StringComparison.OrdinalIgnoreCase) ? name[3..] : name;
    }

    [GeneratedRegex(@"^line (\d+): ")]
    private static partial Regex LinePrefix();

    [GeneratedRegex(@"^\$ORIGIN[ \t]+(\S+)", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex OriginLine();
}

internal sealed class ExportZoneSettings : GlobalSettings
{
    [CommandArgument(0, "<ZONE>")]
    [Description("Zone name")]
    public string Zone { get; init; } = "";

    [CommandOption("-f|--file <FILE>")]
    [Description("Write to FILE instead of stdout")]
    public string? File { get; init; }
}

/// <summary>msctl zones export ZONE [-f FILE].</summary>
internal sealed class ExportZoneCommand(CliHost host) : ApiCommand<ExportZoneSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ExportZoneSettings settings, CancellationToken cancellationToken)
    {
        var bytes = await api.SendRawAsync(HttpMethod.Get, ZoneApi.Path(settings.Zone) + "/export", null, cancellationToken);
        if (settings.File is null)
        {
            await Host.Out.WriteAsync(Encoding.UTF8.GetString(bytes));
            await Host.Out.FlushAsync(cancellationToken);
            return ExitCodes.Ok;
        }

        await System.IO.File.WriteAllBytesAsync(Path.Combine(Host.WorkingDirectory, settings.File), bytes, cancellationToken);
        Host.Error.WriteLine($"wrote {settings.File} ({bytes.Length:N0} bytes)");
        return ExitCodes.Ok;
    }
}

internal sealed class DeleteZoneSettings : GlobalSettings
{
    [CommandArgument(0, "<ZONE>")]
    [Description("Zone name")]
    public string Zone { get; init; } = "";

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (required when stdin is not a terminal)")]
    public bool Yes { get; init; }
}

/// <summary>msctl zones delete ZONE.</summary>
internal sealed class DeleteZoneCommand(CliHost host) : ApiCommand<DeleteZoneSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DeleteZoneSettings settings, CancellationToken cancellationToken)
    {
        Confirmation.Check(Host, settings.Yes, "delete");
        if (!await Confirmation.AskAsync(Host, settings.Yes, $"Delete zone [bold]{Markup.Escape(settings.Zone)}[/] and all its records?", "deleted", cancellationToken))
        {
            return ExitCodes.Error;
        }

        await api.SendRawAsync(HttpMethod.Delete, ZoneApi.Path(settings.Zone), null, cancellationToken);
        Host.Console.MarkupLineInterpolated($"Deleted zone [bold]{settings.Zone}[/].");
        return ExitCodes.Ok;
    }
}

internal sealed class ListRecordsSettings : ZoneSettings
{
    [CommandOption("--name <NAME>")]
    [Description("Only this owner (relative, '@' or absolute)")]
    public string? Name { get; init; }

    [CommandOption("--type <TYPE>")]
    [Description("Only this type (A, MX, TYPE65534, ...)")]
    public string? Type { get; init; }

    [CommandOption("--page <N>")]
    public int? Page { get; init; }

    [CommandOption("--per-page <N>")]
    public int? PerPage { get; init; }
}

/// <summary>msctl zones records list ZONE.</summary>
internal sealed class ListRecordsCommand(CliHost host) : ApiCommand<ListRecordsSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ListRecordsSettings settings, CancellationToken cancellationToken)
    {
        var query = ApiClient.QueryString(("name", settings.Name), ("type", settings.Type), ("page", settings.Page?.ToString(CultureInfo.InvariantCulture)), ("per_page", (settings.PerPage ?? 100).ToString(CultureInfo.InvariantCulture)));
        var result = await api.SendAsync<PageOf<ZoneRecordView>>(HttpMethod.Get, ZoneApi.Path(settings.Zone) + "/records" + query, null, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var table = Tables.Create(Tables.Column("Id"), Tables.Column("Name"), Tables.Column("TTL", right: true), Tables.Column("Type"), Tables.Column("Data"));
            foreach (var r in result.Value.Items)
            {
                table.AddRow(OutputFormat.Cell(r.Id), OutputFormat.Cell(r.Name), OutputFormat.Cell(r.Ttl.ToString(CultureInfo.InvariantCulture)), OutputFormat.Cell(r.Type), OutputFormat.Cell(r.Data));
            }

            Tables.Write(Host, table);
            Host.Console.MarkupLineInterpolated($"[grey]{result.Value.Items.Count} of {result.Value.Total}[/]");
        });
        return ExitCodes.Ok;
    }
}

internal sealed class AddRecordSettings : ZoneSettings
{
    [CommandArgument(1, "<NAME>")]
    [Description("Owner: relative (www), '@' or absolute (www.example.com.)")]
    public string Name { get; init; } = "";

    [CommandArgument(2, "<TYPE>")]
    [Description("A, AAAA, CNAME, MX, NS, TXT, SRV, PTR, CAA, DS, TLSA or TYPEnnn")]
    public string Type { get; init; } = "";

    [CommandArgument(3, "<DATA>")]
    [Description("The record data in zone-file form, e.g. 192.0.2.1 or \"10 mail\"")]
    public string Data { get; init; } = "";

    [CommandOption("--ttl <SECONDS>")]
    [Description("TTL; default: the SOA's")]
    public long? Ttl { get; init; }
}

/// <summary>msctl zones records add ZONE NAME TYPE DATA.</summary>
internal sealed class AddRecordCommand(CliHost host) : ApiCommand<AddRecordSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, AddRecordSettings settings, CancellationToken cancellationToken)
    {
        var body = JsonContent.Create(new ZoneRecordRequest(settings.Name, settings.Type, settings.Ttl, settings.Data), options: ContractsJson.WireOptions);
        var result = await api.SendAsync<ZoneRecordChangeView>(HttpMethod.Post, ZoneApi.Path(settings.Zone) + "/records", body, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
            Host.Console.MarkupLineInterpolated($"Added {result.Value.Record.Name} {result.Value.Record.Ttl} {result.Value.Record.Type} {result.Value.Record.Data} (id {result.Value.Record.Id}); serial {result.Value.Serial}."));
        return ExitCodes.Ok;
    }
}

internal sealed class DeleteRecordSettings : ZoneSettings
{
    [CommandArgument(1, "<ID>")]
    [Description("Record id (see 'zones records list')")]
    public string Id { get; init; } = "";
}

/// <summary>msctl zones records delete ZONE ID.</summary>
internal sealed class DeleteRecordCommand(CliHost host) : ApiCommand<DeleteRecordSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DeleteRecordSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.SendAsync<ZoneSerialView>(HttpMethod.Delete, ZoneApi.Path(settings.Zone) + "/records/" + Uri.EscapeDataString(settings.Id), null, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Host.Console.MarkupLineInterpolated($"Deleted record {settings.Id}; serial {result.Value.Serial}."));
        return ExitCodes.Ok;
    }
}

internal static class ZoneApi
{
    /// <summary>The zone's API path: '/' as %2F, the root zone ('.') as '@' (see <see cref="ZoneUrl"/>).</summary>
    public static string Path(string zone)
    {
        var name = zone.Trim();
        return "zones/" + ZoneUrl.Segment(name);
    }

    public static string Size(long bytes) => bytes switch
    {
        < 10_000 => $"{bytes} B",
        < 10_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1000.0:F1} kB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1} MB"),
    };

    public static void Print(CliHost host, ZoneView z)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow(new Text("Zone"), new Text(z.Name, new Style(decoration: Decoration.Bold)));
        grid.AddRow(new Text("Serial"), new Text(z.Serial.ToString(CultureInfo.InvariantCulture)));
        grid.AddRow(new Text("Records"), new Text(z.RecordCount.ToString("N0", CultureInfo.InvariantCulture)));
        grid.AddRow(new Text("Size"), new Text($"{Size(z.Size)} ({Size(z.GzipSize)} gzip)"));
        grid.AddRow(new Text("SHA-256"), new Text(z.Sha256));
        grid.AddRow(new Text("Created"), new Text(z.CreatedAt.ToString("u", CultureInfo.InvariantCulture)));
        grid.AddRow(new Text("Updated"), new Text(z.UpdatedAt.ToString("u", CultureInfo.InvariantCulture)));
        host.Console.Write(grid);
    }
}
