using System.Net;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Settings;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/settings: global defaults that servers inherit.</summary>
public static class SettingsEndpoints
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/settings/monitoring", GetAsync).WithTags("Settings").RequireAuthorization(AuthNames.PeopleRead)
            .WithName("GetMonitoringSettings").WithSummary("Monitoring and enrolment settings");
        app.MapPut("/api/v1/settings/monitoring", PutAsync).WithTags("Settings").RequireAuthorization(AuthNames.PeopleWrite)
            .WithName("PutMonitoringSettings").WithSummary("Change monitoring settings; fields left out keep their values");
        return app;
    }

    public static async Task<Ok<MonitoringSettingsView>> GetAsync(IGrainFactory grains) =>
        TypedResults.Ok(ToView(await grains.GetGrain<IMonitoringSettingsGrain>("monitoring").GetAsync()));

    public static async Task<Results<Ok<MonitoringSettingsView>, ValidationProblem>> PutAsync(
        MonitoringSettingsUpdate body, IGrainFactory grains, AgentListenerTls listenerTls)
    {
        var grain = grains.GetGrain<IMonitoringSettingsGrain>("monitoring");
        var current = await grain.GetAsync();
        var errors = new FieldErrors();
        if (body.MonitoringApiIp is { Length: > 0 } ip && !IPAddress.TryParse(ip, out _))
        {
            errors.Add("monitoring_api_ip", $"'{ip}' is not an IP address");
        }

        Check(body.HeartbeatIntervalSeconds, 1, 3600, "heartbeat_interval_seconds", errors);
        Check(body.HeartbeatMissedLimit, 2, 100, "heartbeat_missed_limit", errors);
        Check(body.EnrollmentTokenHours, 1, 24 * 30, "enrollment_token_hours", errors);
        Check(body.CertificateDays, 1, 90, "certificate_days", errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var next = new MonitoringSettings(
            body.MonitoringApiIp ?? current.MonitoringApiIp,
            body.HeartbeatIntervalSeconds ?? current.HeartbeatIntervalSeconds,
            body.HeartbeatMissedLimit ?? current.HeartbeatMissedLimit,
            body.EnrollmentTokenHours ?? current.EnrollmentTokenHours,
            body.CertificateDays ?? current.CertificateDays);
        var saved = await grain.SetAsync(next);
        if (next.MonitoringApiIp != current.MonitoringApiIp)
        {
            listenerTls.Invalidate();
        }

        return TypedResults.Ok(ToView(saved));
    }

    private static void Check(int? value, int min, int max, string field, FieldErrors errors)
    {
        if (value is { } v && (v < min || v > max))
        {
            errors.Add(field, $"must be between {min} and {max}");
        }
    }

    private static MonitoringSettingsView ToView(MonitoringSettings s) =>
        new(s.MonitoringApiIp, s.HeartbeatIntervalSeconds, s.HeartbeatMissedLimit, s.EnrollmentTokenHours, s.CertificateDays);
}
