using ManagedServers.Cli.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands;

/// <summary>msctl logout: revoke the token <c>msctl login</c> made (a token given with --token is left alone) and delete the saved login.</summary>
internal sealed class LogoutCommand(CliHost host) : AsyncCommand<GlobalSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, GlobalSettings settings, CancellationToken cancellationToken)
    {
        var store = new ConfigStore(host);
        CliConfig? saved;
        try
        {
            saved = store.Load();
        }
        catch (CliException)
        {
            saved = null; // unreadable: deleting it is all there is to do
        }

        if (!store.Delete())
        {
            host.Console.MarkupLineInterpolated($"Not logged in ({store.FilePath} does not exist).");
            return ExitCodes.Ok;
        }

        host.Console.MarkupLineInterpolated($"Logged out: removed {store.FilePath}.");
        if (saved is { TokenId: { } id } && Connection.TryParseUrl(saved.Url, out var url))
        {
            var outcome = await TokenRevocation.TryRevokeAsync(host, url, saved.Token, id, cancellationToken);
            host.Console.MarkupLineInterpolated(outcome.Done
                ? (FormattableString)$"[grey]The token msctl login made (id {id}) {outcome.Text}.[/]"
                : $"[yellow]The token msctl login made (id {id}) was not revoked: {outcome.Text}[/]");
        }
        else if (saved is not null)
        {
            host.Console.MarkupLine("[grey]The token itself (given with --token) stays valid until it expires or is revoked ('msctl tokens revoke ID').[/]");
        }

        return ExitCodes.Ok;
    }
}
