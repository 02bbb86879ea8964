using System.ComponentModel;
using ManagedServers.Cli.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Tokens;

internal sealed class RevokeTokenSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("Token id, as shown by 'msctl tokens list'")]
    public string Id { get; init; } = "";
}

/// <summary>msctl tokens revoke.</summary>
internal sealed class RevokeTokenCommand(CliHost host) : ApiCommand<RevokeTokenSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, RevokeTokenSettings settings, CancellationToken cancellationToken)
    {
        await api.RevokeTokenAsync(settings.Id, cancellationToken);
        Host.Console.MarkupLineInterpolated($"Revoked token {settings.Id}.");
        return ExitCodes.Ok;
    }
}
