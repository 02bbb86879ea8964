using ManagedServers.Cli.Api;
using ManagedServers.Cli.Config;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands;

/// <summary>Base of commands that call the API with the resolved URL and token.</summary>
internal abstract class ApiCommand<TSettings>(CliHost host) : AsyncCommand<TSettings>
    where TSettings : GlobalSettings
{
    protected CliHost Host { get; } = host;

    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var connection = Connection.Resolve(settings.Url, Host);
        using var api = new ApiClient(connection.Url, ApiClient.Bearer(connection.Token), Host.HttpTimeout);
        return await RunAsync(api, settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(ApiClient api, TSettings settings, CancellationToken cancellationToken);
}
