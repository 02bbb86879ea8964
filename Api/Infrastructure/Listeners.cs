using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ManagedServers.Api.Infrastructure;

/// <summary>Marks the endpoints agents call (enrolment, renewal, heartbeats, commands…): the agent listener serves these and nothing else.</summary>
public sealed class AgentAudience
{
    public static AgentAudience Instance { get; } = new();

    private AgentAudience()
    {
    }
}

/// <summary>
/// Each listener serves its own audience. The agent listener (<c>--AgentUrls</c>, which may face the managed servers'
/// networks) answers the endpoints marked <see cref="AgentAudience"/> and nothing else: no token, login, setup bundle,
/// dashboard, metrics or documentation there (404). The people listener (<c>--urls</c>) answers everything else, and
/// an agent endpoint asked there gets 421 naming the right listener. Which listener a request came in on is a mark
/// Kestrel puts on the connection, not a port number compared later.
/// </summary>
public static class Listeners
{
    private const string AgentListenerKey = "managedservers.agent-listener";

    /// <summary>Marks every connection accepted on <paramref name="listen"/> as the agent listener's.</summary>
    public static void MarkAsAgentListener(ListenOptions listen) =>
        listen.Use(next => connection =>
        {
            connection.Items[AgentListenerKey] = true;
            return next(connection);
        });

    public static bool OnAgentListener(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(AgentListenerKey) == true;

    /// <summary>The audience check, before authentication: a wrong-listener request never reaches a password check.</summary>
    public static IApplicationBuilder UseListenerAudiences(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var forAgents = context.GetEndpoint()?.Metadata.GetMetadata<AgentAudience>() is not null;
            var agentSide = OnAgentListener(context);
            if (agentSide && !forAgents)
            {
                await Problem.Of(404, "Not found", "the agent listener serves agent endpoints only; people and scripts use the API address (--urls)", ProblemTypes.NotFound).ExecuteAsync(context);
                return;
            }

            if (!agentSide && forAgents)
            {
                await Problem.Of(421, "Misdirected request", "agent endpoints are served on the agent listener (https, see --AgentUrls)", ProblemTypes.Validation).ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
