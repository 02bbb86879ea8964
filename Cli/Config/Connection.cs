namespace ManagedServers.Cli.Config;

/// <summary>Where and as whom to talk to the API, after applying --url, the environment and the saved login.</summary>
internal sealed record Connection(Uri Url, string? Token)
{
    public const string UrlVariable = "MANAGEDSERVERS_URL";
    public const string TokenVariable = "MANAGEDSERVERS_TOKEN";

    /// <summary>
    /// URL: --url, then MANAGEDSERVERS_URL, then the saved login. Token: MANAGEDSERVERS_TOKEN, then the saved login's
    /// token, but only when the saved login is for the same URL (a saved token is never sent to another server).
    /// </summary>
    public static Connection Resolve(string? urlOption, CliHost host)
    {
        var config = new ConfigStore(host).Load();
        var urlText = FirstNonEmpty(urlOption, host.GetEnv(UrlVariable), config?.Url)
            ?? throw new CliException($"no control plane configured: run 'msctl login --url URL' or set {UrlVariable}");
        var url = ParseUrl(urlText);

        var token = FirstNonEmpty(host.GetEnv(TokenVariable));
        if (token is null && config is not null && TryParseUrl(config.Url, out var saved) && saved == url)
        {
            token = config.Token;
        }

        return new Connection(url, token);
    }

    /// <summary>Parses a control plane URL: absolute http(s); a trailing /api/v1 is dropped; ends with '/'.</summary>
    public static Uri ParseUrl(string text) => TryParseUrl(text, out var url)
        ? url
        : throw new CliUsageException($"invalid URL '{text}': expected http://host:port or https://host");

    public static bool TryParseUrl(string text, out Uri url)
    {
        url = null!;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return false;
        }

        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/api/v1", StringComparison.OrdinalIgnoreCase))
        {
            path = path[..^"/api/v1".Length];
        }

        url = new UriBuilder(uri) { Path = path + "/", Query = "", Fragment = "" }.Uri;
        return true;
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
