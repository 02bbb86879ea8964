using System.Globalization;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Http;

/// <summary>Paths of the control plane's agent API, relative to the agent URL.</summary>
internal static class AgentEndpoints
{
    public const string Enroll = AgentApi.Enroll;
    public const string Renew = AgentApi.Renew;
    public const string Heartbeat = AgentApi.Heartbeat;
    public const string Commands = AgentApi.Commands;

    public static string CommandsPoll(int waitSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{Commands}?wait_seconds={waitSeconds}");

    public static string CommandResult(string commandId) => $"{Commands}/{Uri.EscapeDataString(commandId)}/result";

    /// <summary>Joins the agent URL (with or without a trailing slash or a path prefix) and a relative path.</summary>
    public static Uri Resolve(Uri baseUri, string relative)
    {
        var text = baseUri.AbsoluteUri;
        return new Uri(text.EndsWith('/') ? text + relative : text + "/" + relative, UriKind.Absolute);
    }

    /// <summary>Parses and checks an agent URL; throws <see cref="AgentException"/> with a readable message.</summary>
    public static Uri ParseAgentUrl(string? url, string source)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new AgentException($"{source}: missing 'agent_url'");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(uri.Query))
        {
            throw new AgentException($"{source}: agent_url '{url}' must be an https:// URL");
        }

        return uri;
    }
}
