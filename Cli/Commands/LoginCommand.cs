using System.ComponentModel;
using System.Net;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Config;
using ManagedServers.Cli.Output;
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
    [Description("User name; a new API token named msctl@HOSTNAME is created for it (and the one an earlier login made is revoked)")]
    public string? User { get; init; }

    [CommandOption("-p|--password <PASSWORD>")]
    [Description("Password (prompted when omitted; or set MANAGEDSERVERS_PASSWORD)")]
    public string? Password { get; init; }

    [CommandOption("--expires <LIFETIME>")]
    [Description("Lifetime of the token created: 12h, 30d, 1w … or 'never' (default: the control plane's, 30d unless changed)")]
    public string? Expires { get; init; }

    public override ValidationResult Validate() =>
        Token is not null && (User is not null || Password is not null || Expires is not null)
            ? ValidationResult.Error("use either --token or --user/--password/--expires, not both")
        : Expires is not null && !TokenLifetimes.TryParse(Expires, out _)
            ? ValidationResult.Error($"invalid --expires '{Expires}': {TokenLifetimes.Hint}")
        : ValidationResult.Success();
}

/// <summary>
/// msctl login: obtain a token, verify it and save {url, token} with mode 0600. A token this command created before
/// (a user name and password login) is revoked once the new one works, so logins do not pile up tokens.
/// </summary>
internal sealed class LoginCommand(CliHost host) : AsyncCommand<LoginSettings>
{
    public const string PasswordVariable = "MANAGEDSERVERS_PASSWORD";

    public override async Task<int> ExecuteAsync(CommandContext context, LoginSettings settings, CancellationToken cancellationToken)
    {
        var store = new ConfigStore(host);
        var urlText = settings.Url ?? NonEmpty(host.GetEnv(Connection.UrlVariable))
            ?? throw new CliUsageException($"--url is required (or set {Connection.UrlVariable})");
        var url = Connection.ParseUrl(urlText);
        var previous = TryLoad(store);

        CreatedToken? created = null;
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
            created = await CreateTokenAsync(url, user, password, settings.Expires, cancellationToken);
            token = created.Token;
            who = user;
        }

        await VerifyAsync(url, token, cancellationToken);
        store.Save(new CliConfig(url.ToString().TrimEnd('/'), token, created?.Id));

        host.Console.MarkupLineInterpolated($"[green]Logged in[/] to {url.ToString().TrimEnd('/')}{(who is null ? "" : " as " + who)}.");
        if (created is not null)
        {
            host.Console.MarkupLineInterpolated($"[grey]Token {created.Name} (id {created.Id}) expires {(created.ExpiresAt is { } at ? OutputFormat.Timestamp(at, host.Time.GetUtcNow()) : "never")}.[/]");
        }

        host.Console.MarkupLineInterpolated($"[grey]Saved to {store.FilePath}[/]");
        if (previous is { TokenId: { } oldId } && oldId != created?.Id)
        {
            await RevokePreviousAsync(previous, oldId, url, token, cancellationToken);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Revokes the token the previous login created: on the same control plane with the new token (its owner, or an
    /// admin, may), elsewhere with the old token itself. A failure is reported in one line and does not fail the login.
    /// </summary>
    private async Task RevokePreviousAsync(CliConfig previous, string oldId, Uri url, string newToken, CancellationToken ct)
    {
        var sameServer = Connection.TryParseUrl(previous.Url, out var previousUrl) && previousUrl == url;
        if (!sameServer && previousUrl is null)
        {
            return;
        }

        var outcome = await TokenRevocation.TryRevokeAsync(host, sameServer ? url : previousUrl!, sameServer ? newToken : previous.Token, oldId, ct);
        host.Console.MarkupLineInterpolated(outcome.Done
            ? (FormattableString)$"[grey]The token the previous login made (id {oldId}) {outcome.Text}.[/]"
            : $"[yellow]The token the previous login made (id {oldId}) was not revoked: {outcome.Text}[/]");
    }

    private CliConfig? TryLoad(ConfigStore store)
    {
        try
        {
            return store.Load();
        }
        catch (CliException)
        {
            return null; // an unreadable config is replaced by this login
        }
    }

    private async Task<CreatedToken> CreateTokenAsync(Uri url, string user, string password, string? expires, CancellationToken ct)
    {
        using var api = new ApiClient(url, ApiClient.Basic(user, password), host.HttpTimeout);
        try
        {
            var created = await api.CreateTokenAsync(new CreateTokenRequest($"msctl@{host.HostName}", expires), ct);
            return created.Value;
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
            throw new CliException($"login failed: {ex.Detail ?? "the control plane rejected the token"}");
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

/// <summary>Revoking the token <c>msctl login</c> made (on the next login, and on logout).</summary>
internal static class TokenRevocation
{
    /// <summary>What became of the token: <see cref="Done"/> (revoked, or gone already) with how, or why it was not revoked.</summary>
    internal sealed record Outcome(bool Done, string Text);

    /// <summary>Revokes token <paramref name="tokenId"/> at <paramref name="url"/>, authenticated by <paramref name="token"/>.</summary>
    public static async Task<Outcome> TryRevokeAsync(CliHost host, Uri url, string token, string tokenId, CancellationToken ct)
    {
        using var api = new ApiClient(url, ApiClient.Bearer(token), host.HttpTimeout);
        try
        {
            await api.RevokeTokenAsync(tokenId, ct);
            return new Outcome(true, "is revoked");
        }
        catch (ApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return new Outcome(true, "is gone already (revoked, or another user's)");
        }
        catch (ApiException ex)
        {
            return new Outcome(false, $"{ex.Detail ?? ex.Message}; revoke it with 'msctl tokens revoke {tokenId}'");
        }
        catch (ApiUnreachableException ex)
        {
            return new Outcome(false, $"{ex.Message}; revoke it with 'msctl tokens revoke {tokenId}'");
        }
    }
}
