using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using Spectre.Console;

namespace ManagedServers.Cli.Commands.Servers;

/// <summary>msctl servers ping.</summary>
internal sealed class PingServerCommand(CliHost host) : ApiCommand<ServerIdSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerIdSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.PingServerAsync(server.Id, cancellationToken);
        var ping = result.Value;
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (ping.Ok)
            {
                Host.Console.MarkupLineInterpolated(
                    $"[green]Pong[/] from [bold]{server.Name}[/]: round trip {ping.RoundTripMs:0.0} ms, agent {OutputFormat.OrNone(ping.AgentVersion)}");
            }
        });

        if (!ping.Ok)
        {
            // In JSON mode the result is already on stdout; the error line goes to stderr either way.
            throw new CliException($"ping {server.Name} failed: {ping.Error ?? "no answer from the agent"}");
        }

        return ExitCodes.Ok;
    }
}
