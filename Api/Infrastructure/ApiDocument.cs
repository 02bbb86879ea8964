using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ManagedServers.Api.Infrastructure;

/// <summary>
/// The OpenAPI document and the docs page (Scalar) at <c>/api/docs</c>. The document describes the REST API under
/// <c>/api/</c> only (not the Orleans dashboard's routes, not <c>/metrics</c>); its tags come in the order a person reads
/// them, with the endpoints only agents call last under <see cref="AgentTag"/>. The docs page offers nothing that leaves
/// this host: no AI chat, no MCP, no developer toolbar (deploy, share, SDK generation), no telemetry.
/// </summary>
public static class ApiDocument
{
    /// <summary>The tag of the endpoints agents call (mTLS listener); always the document's last.</summary>
    public const string AgentTag = "Agent";

    /// <summary>Tags in reading order; a tag not listed comes after these and before <see cref="AgentTag"/>.</summary>
    private static readonly string[] TagOrder =
        ["Servers", "Services", "DNS servers", "Zones", "Jobs", "Monitoring", "Settings", "Tokens", "Users", "Prometheus"];

    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.OrdinalIgnoreCase) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ManagedServers API";
            document.Info.Description = "Control plane for fleets of Knot DNS, Kea DHCP and backup servers. People authenticate with `Authorization: Bearer <token>`; agents with their mTLS client certificate (the endpoints tagged `Agent`, last).";
            Order(document);
            return Task.CompletedTask;
        });
    }

    /// <summary>The docs page: the document, and every feature that calls out of this host turned off.</summary>
    public static void ConfigureDocsPage(ScalarOptions options) =>
        options.WithTitle("ManagedServers API")
            .WithOpenApiRoutePattern(ApiSetup.OpenApiPath)
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .HideDeveloperTools();

    /// <summary>Tags in <see cref="TagOrder"/>, agent last; paths whose operations are all agent operations last too.</summary>
    internal static void Order(OpenApiDocument document)
    {
        if (document.Tags is { Count: > 0 } tags)
        {
            document.Tags = new HashSet<OpenApiTag>(tags.OrderBy(t => Rank(t.Name)).ThenBy(t => t.Name, StringComparer.Ordinal));
        }

        if (document.Paths is { Count: > 0 } paths)
        {
            var ordered = new OpenApiPaths();
            foreach (var (path, item) in paths.OrderBy(p => IsAgentOnly(p.Value) ? 1 : 0))
            {
                ordered.Add(path, item);
            }

            document.Paths = ordered;
        }
    }

    private static int Rank(string? tag) => tag == AgentTag ? int.MaxValue : Array.IndexOf(TagOrder, tag) is var i and >= 0 ? i : TagOrder.Length;

    private static bool IsAgentOnly(IOpenApiPathItem item) =>
        item.Operations is { Count: > 0 } operations && operations.Values.All(o => o.Tags?.Any(t => t.Name == AgentTag) == true);
}
