using System.ComponentModel;
using ManagedServers.Cli.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class DeleteServerSettings : GlobalSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (required when stdin is not a terminal)")]
    public bool Yes { get; init; }
}

/// <summary>msctl servers delete.</summary>
internal sealed class DeleteServerCommand(CliHost host) : ApiCommand<DeleteServerSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DeleteServerSettings settings, CancellationToken cancellationToken)
    {
        Confirmation.Check(Host, settings.Yes, "delete");
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var question = $"Delete server [bold]{Markup.Escape(server.Name)}[/] ({Markup.Escape(server.Id)})? Its agent will no longer be managed.";
        if (!await Confirmation.AskAsync(Host, settings.Yes, question, "deleted", cancellationToken))
        {
            return ExitCodes.Error;
        }

        await api.DeleteServerAsync(server.Id, cancellationToken);
        Host.Console.MarkupLineInterpolated($"Deleted server [bold]{server.Name}[/] ({server.Id}).");
        return ExitCodes.Ok;
    }
}
