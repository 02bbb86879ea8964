using System.Net;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ManagedServers.Silo;

/// <summary>
/// Two listeners: people and scripts on <c>--urls</c> (default http://127.0.0.1:8080) and agents on
/// <c>--AgentUrls</c> (default https://127.0.0.1:8443, TLS from the built-in CA, client certificates
/// requested and checked against it).
/// </summary>
public static class KestrelSetup
{
    public static void Configure(KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var tls = kestrel.ApplicationServices.GetRequiredService<AgentListenerTls>();
        foreach (var url in (configuration["urls"] ?? "http://127.0.0.1:8080").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Listen(kestrel, url, https => https.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = ctx => tls.GetOptionsAsync(false, ctx.CancellationToken) }));
        }

        foreach (var url in AgentEndpointConfig.AgentUrls(configuration))
        {
            if (!url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"AgentUrls must be https:// URLs (agents use mTLS): '{url}'");
            }

            Listen(kestrel, url, https =>
            {
                Listeners.MarkAsAgentListener(https);
                https.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = ctx => tls.GetOptionsAsync(true, ctx.CancellationToken) });
            });
        }
    }

    private static void Listen(KestrelServerOptions kestrel, string url, Action<ListenOptions> https)
    {
        var uri = new Uri(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
        var secure = uri.Scheme == Uri.UriSchemeHttps;
        Action<ListenOptions> configure = o =>
        {
            if (secure)
            {
                https(o);
            }
        };
        var host = uri.Host.Trim('[', ']');
        if (host == "localhost")
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else if (host is "0.0.0.0" or "::")
        {
            kestrel.ListenAnyIP(uri.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(host), uri.Port, configure);
        }
    }
}
