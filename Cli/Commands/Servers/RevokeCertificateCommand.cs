using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class RevokeCertificateSettings : ServerIdSettings
{
    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (required when stdin is not a terminal)")]
    public bool Yes { get; init; }
}

/// <summary>msctl servers revoke-cert: the agent's certificates stop working; the server stays.</summary>
internal sealed class RevokeCertificateCommand(CliHost host) : ApiCommand<RevokeCertificateSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, RevokeCertificateSettings settings, CancellationToken cancellationToken)
    {
        Confirmation.Check(Host, settings.Yes, "revoke");
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var question = $"Revoke the agent certificate of [bold]{Markup.Escape(server.Name)}[/]? Its agent is refused until it enrols again with a new setup bundle.";
        if (!await Confirmation.AskAsync(Host, settings.Yes, question, "revoked", cancellationToken))
        {
            return ExitCodes.Error;
        }

        var result = await api.RevokeServerCertificateAsync(server.Id, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            Host.Console.MarkupLineInterpolated($"{result.Value.Message}.");
            Host.Console.MarkupLineInterpolated($"Next: [bold]msctl servers bundle {server.Name}[/] and enrol the agent with it.");
        });
        return result.Value.BrokerUserRemoved == false ? ExitCodes.Error : ExitCodes.Ok;
    }
}
