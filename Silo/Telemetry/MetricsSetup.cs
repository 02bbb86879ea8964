using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Shared.Telemetry;
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
        // Served on the people listener only (the agent listener serves agent endpoints only: Listeners).
        var endpoint = app.MapPrometheusScrapingEndpoint(Path);
        return app.Configuration.GetValue("Metrics:RequireToken", false)
            ? endpoint.RequireAuthorization(ManagedServers.Api.Auth.Permissions.MonitoringRead)
            : endpoint.AllowAnonymous();
    }
}
