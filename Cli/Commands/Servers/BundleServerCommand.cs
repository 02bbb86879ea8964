using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class BundleServerSettings : GlobalSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandOption("-f|--file <FILE>")]
    [Description("Where to write the bundle (default ./NAME.bundle.json; - for stdout)")]
    public string? File { get; init; }
}

/// <summary>msctl servers bundle.</summary>
internal sealed class BundleServerCommand(CliHost host) : ApiCommand<BundleServerSettings>(host)
{
    public const string AgentStateDir = "/var/lib/managedservers-agent";

    protected override async Task<int> RunAsync(ApiClient api, BundleServerSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var bundle = await api.GetSetupBundleAsync(server.Id, cancellationToken);

        if (settings.File == "-")
        {
            await Host.Out.WriteAsync(System.Text.Encoding.UTF8.GetString(bundle));
            await Host.Out.FlushAsync(cancellationToken);
            return ExitCodes.Ok;
        }

        var file = settings.File ?? $"{SafeFileName(server.Name)}.bundle.json";
        var path = Path.GetFullPath(file, Host.WorkingDirectory);
        ConfigStore.WritePrivateFile(path, bundle);

        Host.Console.MarkupLineInterpolated($"Wrote the setup bundle of [bold]{server.Name}[/] to [bold]{file}[/] (mode 0600; it contains an enrollment secret).");
        Host.Console.MarkupLine("Next, copy it to the server and run there:");
        Host.Console.MarkupLineInterpolated($"  [bold]ManagedServers.Agent enroll --bundle {file} --state-dir {AgentStateDir}[/]");
        return ExitCodes.Ok;
    }

    private static string SafeFileName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var safe = new string([.. name.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c)]);
        return safe is "" or "." or ".." ? "server" : safe;
    }
}
