using ManagedServers.Cli.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands;

/// <summary>msctl logout: delete the saved login.</summary>
internal sealed class LogoutCommand(CliHost host) : Command<GlobalSettings>
{
    public override int Execute(CommandContext context, GlobalSettings settings, CancellationToken cancellationToken)
    {
        var store = new ConfigStore(host);
        if (store.Delete())
        {
            host.Console.MarkupLineInterpolated($"Logged out: removed {store.FilePath}.");
            host.Console.MarkupLine("[grey]The token itself stays valid until revoked ('msctl tokens revoke ID').[/]");
        }
        else
        {
            host.Console.MarkupLineInterpolated($"Not logged in ({store.FilePath} does not exist).");
        }

        return ExitCodes.Ok;
    }
}
