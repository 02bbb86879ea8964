using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Tokens;

internal sealed class CreateTokenSettings : OutputSettings
{
    [CommandOption("-n|--name <NAME>")]
    [Description("A name to recognise the token by (default: chosen by the server)")]
    public string? Name { get; init; }

    [CommandOption("--expires <LIFETIME>")]
    [Description("Lifetime: 12h, 30d, 1w … or 'never' (default: the control plane's, 30d unless changed)")]
    public string? Expires { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : Expires is not null && !TokenLifetimes.TryParse(Expires, out _) ? ValidationResult.Error($"invalid --expires '{Expires}': {TokenLifetimes.Hint}")
        : ValidationResult.Success();
}

/// <summary>msctl tokens create.</summary>
internal sealed class CreateTokenCommand(CliHost host) : ApiCommand<CreateTokenSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, CreateTokenSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.CreateTokenAsync(new CreateTokenRequest(settings.Name, settings.Expires), cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var t = result.Value;
            var now = Host.Time.GetUtcNow();
            Host.Console.MarkupLineInterpolated($"Created token [bold]{t.Name}[/] (id {t.Id}) for {t.User}, expires {(t.ExpiresAt is null ? "never" : OutputFormat.Timestamp(t.ExpiresAt, now))}.");
            Host.Console.WriteLine();
            Host.Console.WriteLine(t.Token);
            Host.Console.WriteLine();
            Host.Console.MarkupLine("[yellow]Copy this token now: it won't be shown again.[/]");
        });
        return ExitCodes.Ok;
    }
}
