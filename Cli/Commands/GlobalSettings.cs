using System.ComponentModel;
using ManagedServers.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands;

/// <summary>Options every command accepts.</summary>
internal class GlobalSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("Control plane URL, e.g. https://cp.example.org. Overrides MANAGEDSERVERS_URL and the saved login")]
    public string? Url { get; init; }

    [CommandOption("--debug")]
    [Description("Print stack traces on errors")]
    public bool Debug { get; init; }
}

/// <summary>Options of commands that print API objects.</summary>
internal class OutputSettings : GlobalSettings
{
    [CommandOption("-o|--output <FORMAT>")]
    [Description("Output format: [green]table[/] (default) or [green]json[/] (the API's JSON, nothing else on stdout)")]
    public string? Format { get; init; }

    /// <summary>The parsed <see cref="Format"/> (validated in <see cref="Validate"/>).</summary>
    public OutputMode Output => OutputFormat.TryParse(Format, out var mode) ? mode : OutputMode.Table;

    /// <summary>Derived settings must call this first.</summary>
    public override ValidationResult Validate() =>
        OutputFormat.TryParse(Format, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"invalid output format '{Format}': expected table or json");
}
