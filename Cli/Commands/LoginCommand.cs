using System.ComponentModel;
using System.Net;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Config;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands;

internal sealed class LoginSettings : GlobalSettings
{
    [CommandOption("--token <TOKEN>")]
    [Description("Use an existing API token instead of a user name and password")]
    public string? Token { get; init; }

    [CommandOption("-u|--user <USER>")]
    [Description("User name; a new API token named msctl@HOSTNAME is created for it")]
    public string? User { get; init; }

    [CommandOption("-p|--password <PASSWORD>")]
    [Description("Password (prompted when omitted; or set MANAGEDSERVERS_PASSWORD)")]
    public string? Password { get; init; }

    public override ValidationResult Validate() =>
        Token is not null && (User is not null || Password is not null)
            ? ValidationResult.Error("use either --token or --user/--password, not both")
            : ValidationResult.Success();
}

/// <summary>msctl login: obtain a token, verify it and save {url, token} with mode 0600.</summary>
internal sealed class LoginCommand(CliHost host) : AsyncCommand<LoginSettings>
{
    public const string PasswordVariable = "MANAGEDSERVERS_PASSWORD";

    public override async Task<int> ExecuteAsync(CommandContext context, LoginSettings settings, CancellationToken cancellationToken)
    {
        var store = new ConfigStore(host);
        var urlText = settings.Url ?? NonEmpty(host.GetEnv(Connection.UrlVariable))
            ?? throw new CliUsageException($"--url is required (or set {Connection.UrlVariable})");
        var url = Connection.ParseUrl(urlText);

        string token;
        string? who = null;
        if (!string.IsNullOrEmpty(settings.Token))
        {
            token = settings.Token;
        }
        else
        {
            var user = settings.User ?? await AskAsync("User name:", secret: false, "--user or --token", cancellationToken);
            var password = settings.Password ?? NonEmpty(host.GetEnv(PasswordVariable))
                ?? await AskAsync($"Password for {Markup.Escape(user)}:", secret: true, $"--password or {PasswordVariable}", cancellationToken);
            token = await CreateTokenAsync(url, user, password, cancellationToken);
            who = user;
        }

        await VerifyAsync(url, token, cancellationToken);
        store.Save(new CliConfig(url.ToString().TrimEnd('/'), token));

        host.Console.MarkupLineInterpolated($"[green]Logged in[/] to {url.ToString().TrimEnd('/')}{(who is null ? "" : " as " + who)}.");
        host.Console.MarkupLineInterpolated($"[grey]Saved to {store.FilePath}[/]");
        return ExitCodes.Ok;
    }

    private async Task<string> CreateTokenAsync(Uri url, string user, string password, CancellationToken ct)
    {
        using var api = new ApiClient(url, ApiClient.Basic(user, password), host.HttpTimeout);
        try
        {
            var created = await api.CreateTokenAsync(new CreateTokenRequest($"msctl@{host.HostName}"), ct);
            return created.Value.Token;
        }
        catch (ApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            throw new CliException("login failed: wrong user name or password");
        }
    }

    private async Task VerifyAsync(Uri url, string token, CancellationToken ct)
    {
        using var api = new ApiClient(url, ApiClient.Bearer(token), host.HttpTimeout);
        try
        {
            await api.ListServersAsync(new ServerQuery(PerPage: 1), ct);
        }
        catch (ApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            throw new CliException("login failed: the control plane rejected the token");
        }
    }

    private async Task<string> AskAsync(string prompt, bool secret, string alternative, CancellationToken ct)
    {
        if (!host.IsInteractive)
        {
            throw new CliUsageException($"stdin is not a terminal: pass {alternative}");
        }

        var textPrompt = new TextPrompt<string>(prompt);
        if (secret)
        {
            textPrompt.Secret();
        }

        return await host.Console.PromptAsync(textPrompt, ct);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
