using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ManagedServers.Silo.Telemetry;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format (OpenMetrics when asked for): Orleans' meter, the .NET
/// runtime and process, ASP.NET Core requests and the control plane's own <see cref="FleetMetrics"/>.
/// Configuration section <c>Metrics</c>: <c>RequireToken</c> (default false: scrapers need no token;
/// true: a people API token with read permission) and <c>FleetRefreshSeconds</c> (default 15).
/// Served on the people listener only, never on the agent listener. docs/prometheus.md lists the names.
/// </summary>
public static class MetricsSetup
{
    public const string Path = "/metrics";

    /// <summary>The meters exported besides <see cref="FleetMetrics.MeterName"/>.</summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        "Microsoft.Orleans",
        "System.Runtime", // GC, heap, thread pool, exceptions, and the process's CPU time and working set
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
    ];

    public static IServiceCollection AddManagedServersMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("managedservers-silo", serviceVersion: typeof(MetricsSetup).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics
                .AddMeter(FleetMetrics.MeterName)
                .AddMeter([.. Meters])
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = configuration.GetValue("Metrics:ScrapeCacheMilliseconds", 300)));
        services.AddSingleton(new FleetCountsRefresher.Interval(TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("Metrics:FleetRefreshSeconds", 15)))));
        services.AddHostedService<FleetCountsRefresher>();
        return services;
    }

    public static IEndpointConventionBuilder MapManagedServersMetrics(this WebApplication app)
    {
        var agentPorts = AgentPorts(app.Configuration);
        var endpoint = app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            // Agents' listener may face the servers' networks: the control plane's metrics stay on the people listener.
            if (agentPorts.Contains(context.Connection.LocalPort))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        }), optionsName: null);
        return app.Configuration.GetValue("Metrics:RequireToken", false)
            ? endpoint.RequireAuthorization(AuthNames.PeopleRead)
            : endpoint.AllowAnonymous();
    }

    private static HashSet<int> AgentPorts(IConfiguration configuration)
    {
        var ports = new HashSet<int>();
        foreach (var url in AgentEndpointConfig.AgentUrls(configuration))
        {
            var normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
            {
                ports.Add(uri.Port);
            }
        }

        return ports;
    }
}
