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

    [CommandOption("--expires-in-days <DAYS>")]
    [Description("Lifetime in days (default: the server's default)")]
    public int? ExpiresInDays { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : ExpiresInDays is < 1 ? ValidationResult.Error("--expires-in-days must be 1 or more") : ValidationResult.Success();
}

/// <summary>msctl tokens create.</summary>
internal sealed class CreateTokenCommand(CliHost host) : ApiCommand<CreateTokenSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, CreateTokenSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.CreateTokenAsync(new CreateTokenRequest(settings.Name, settings.ExpiresInDays), cancellationToken);
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
