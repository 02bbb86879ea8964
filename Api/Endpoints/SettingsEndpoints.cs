using System.Net;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Broker;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Shared.Security;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/settings: global defaults that servers inherit.</summary>
public static partial class SettingsEndpoints
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/settings/monitoring", GetAsync).WithTags("Settings").RequireAuthorization(Permissions.SettingsRead)
            .WithName("GetMonitoringSettings").WithSummary("Monitoring and enrolment settings");
        app.MapPut("/api/v1/settings/monitoring", PutAsync).WithTags("Settings").RequireAuthorization(Permissions.SettingsWrite)
            .WithName("PutMonitoringSettings").WithSummary("Change monitoring settings; fields left out keep their values");
        app.MapGet("/api/v1/settings/rabbitmq", GetRabbitMqAsync).WithTags("Settings").RequireAuthorization(Permissions.SettingsRead)
            .WithName("GetRabbitMqSettings").WithSummary("RabbitMQ settings (never the password: password_set says whether one is stored)");
        app.MapPut("/api/v1/settings/rabbitmq", PutRabbitMqAsync).WithTags("Settings").RequireAuthorization(Permissions.SettingsWrite)
            .WithName("PutRabbitMqSettings").WithSummary("Change RabbitMQ settings; fields left out (and an omitted password) keep their values");
        app.MapPost("/api/v1/settings/rabbitmq/test", TestRabbitMqAsync).WithTags("Settings").RequireAuthorization(Permissions.SettingsWrite)
            .WithName("TestRabbitMqSettings").WithSummary("Connect to RabbitMQ with the body's settings (or the stored ones) and say why it failed");
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
        Check(body.SystemIntervalSeconds, 1, 3600, "system_interval_seconds", errors);
        Check(body.DnsIntervalSeconds, 1, 3600, "dns_interval_seconds", errors);
        Check(body.DhcpIntervalSeconds, 1, 3600, "dhcp_interval_seconds", errors);
        Check(body.DhcpUtilisationWarning, 1, 100, "dhcp_utilisation_warning", errors);
        Check(body.DhcpUtilisationCritical, 1, 100, "dhcp_utilisation_critical", errors);
        if ((body.DhcpUtilisationWarning ?? current.DhcpUtilisationWarning) > (body.DhcpUtilisationCritical ?? current.DhcpUtilisationCritical))
        {
            errors.Add(body.DhcpUtilisationWarning is null ? "dhcp_utilisation_critical" : "dhcp_utilisation_warning", "the warning level must not be above the critical level");
        }

        Check(body.RawRetentionMinutes, 10, 60 * 24 * 31, "raw_retention_minutes", errors);
        Check(body.AggregateRetentionDays, 1, 3660, "aggregate_retention_days", errors);
        var communication = current.Communication;
        if (body.Communication is not null
            && (!ServerMapping.TryParse(body.Communication, out communication) || communication == CommunicationMode.Amqp))
        {
            errors.Add("communication", $"unknown value '{body.Communication}': use push or pull (RabbitMQ transport is chosen per server or in settings/rabbitmq)");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var next = new MonitoringSettings(
            body.MonitoringApiIp ?? current.MonitoringApiIp,
            body.HeartbeatIntervalSeconds ?? current.HeartbeatIntervalSeconds,
            body.HeartbeatMissedLimit ?? current.HeartbeatMissedLimit,
            body.EnrollmentTokenHours ?? current.EnrollmentTokenHours,
            body.CertificateDays ?? current.CertificateDays)
        {
            VerifyCa = body.VerifyCa ?? current.VerifyCa,
            Communication = communication,
            SystemMonitoring = body.SystemMonitoring ?? current.SystemMonitoring,
            SystemIntervalSeconds = body.SystemIntervalSeconds ?? current.SystemIntervalSeconds,
            DnsMonitoring = body.DnsMonitoring ?? current.DnsMonitoring,
            DnsIntervalSeconds = body.DnsIntervalSeconds ?? current.DnsIntervalSeconds,
            RawRetentionMinutes = body.RawRetentionMinutes ?? current.RawRetentionMinutes,
            AggregateRetentionDays = body.AggregateRetentionDays ?? current.AggregateRetentionDays,
            DhcpMonitoring = body.DhcpMonitoring ?? current.DhcpMonitoring,
            DhcpIntervalSeconds = body.DhcpIntervalSeconds ?? current.DhcpIntervalSeconds,
            DhcpUtilisationWarning = body.DhcpUtilisationWarning ?? current.DhcpUtilisationWarning,
            DhcpUtilisationCritical = body.DhcpUtilisationCritical ?? current.DhcpUtilisationCritical,
        };
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
        new(
            s.MonitoringApiIp,
            s.HeartbeatIntervalSeconds,
            s.HeartbeatMissedLimit,
            s.EnrollmentTokenHours,
            s.CertificateDays,
            s.VerifyCa,
            ServerMapping.Wire(s.Communication),
            s.SystemMonitoring,
            s.SystemIntervalSeconds,
            s.DnsMonitoring,
            s.DnsIntervalSeconds,
            s.RawRetentionMinutes,
            s.AggregateRetentionDays,
            s.DhcpMonitoring,
            s.DhcpIntervalSeconds,
            s.DhcpUtilisationWarning,
            s.DhcpUtilisationCritical);

    // ---- RabbitMQ ----

    public static async Task<Ok<RabbitMqSettingsView>> GetRabbitMqAsync(IGrainFactory grains) =>
        TypedResults.Ok(ToView(await RabbitMq(grains).GetAsync()));

    public static async Task<Results<Ok<RabbitMqSettingsView>, ValidationProblem>> PutRabbitMqAsync(
        RabbitMqSettingsUpdate body, IGrainFactory grains, SecretBox secrets)
    {
        var grain = RabbitMq(grains);
        var errors = new FieldErrors();
        var next = Merge(await grain.GetAsync(), body, secrets, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        return TypedResults.Ok(ToView(await grain.SetAsync(next)));
    }

    /// <summary>Connects with the body's settings (fields left out, and an omitted password, come from the stored ones), or the stored ones.</summary>
    public static async Task<Results<Ok<RabbitMqTestResult>, ValidationProblem>> TestRabbitMqAsync(
        RabbitMqSettingsUpdate? body, IGrainFactory grains, SecretBox secrets, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var settings = Merge(await RabbitMq(grains).GetAsync(), body ?? new RabbitMqSettingsUpdate(), secrets, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        BrokerProbeResult result;
        try
        {
            var connection = BrokerConnection.From(settings, secrets);
            result = await BrokerProbe.ProbeAsync(connection, BrokerProbe.DefaultTimeout, cancellationToken);
            LogRabbitMqTest(loggers.CreateLogger("ManagedServers.Api.Settings"), connection.ToString(), result.Reason);
        }
        catch (BrokerUnavailableException ex)
        {
            result = new BrokerProbeResult(false, BrokerProbe.Error, ex.Message);
        }

        return TypedResults.Ok(new RabbitMqTestResult(result.Ok, result.Reason, result.Detail, result.ServerVersion, settings.Host, settings.Port, settings.VirtualHost));
    }

    /// <summary>The stored settings with the update applied; field errors for what is invalid in the result.</summary>
    internal static RabbitMqSettings Merge(RabbitMqSettings current, RabbitMqSettingsUpdate body, SecretBox secrets, FieldErrors errors)
    {
        var host = body.Host?.Trim() ?? current.Host;
        if (host.Length == 0)
        {
            errors.Add("host", "is required: the RabbitMQ host name or IP address");
        }
        else if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            errors.Add("host", $"'{host}' is neither an IP address nor a host name");
        }

        var port = body.Port ?? current.Port;
        if (port is < 1 or > 65535)
        {
            errors.Add("port", "must be between 1 and 65535");
        }

        var vhost = body.VirtualHost ?? current.VirtualHost;
        if (string.IsNullOrWhiteSpace(vhost))
        {
            errors.Add("virtual_host", "is required (the default virtual host is \"/\")");
        }

        var user = body.User?.Trim() ?? current.User;
        if (user.Length == 0)
        {
            errors.Add("user", "is required");
        }

        var managementUrl = body.ManagementUrl?.Trim() ?? current.ManagementUrl;
        if (managementUrl.Length > 0
            && (!Uri.TryCreate(managementUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add("management_url", $"'{managementUrl}' is not an absolute http(s) URL");
        }

        var communication = current.DefaultCommunication;
        if (body.DefaultCommunication is not null && !ServerMapping.TryParse(body.DefaultCommunication, out communication))
        {
            errors.Add("default_communication", $"unknown value '{body.DefaultCommunication}': use one of {ServerMapping.Choices<CommunicationMode>()}");
        }

        var merged = new RabbitMqSettings(
            host,
            port,
            vhost,
            user,
            body.Password is null ? current.EncryptedPassword : secrets.Protect(body.Password, RabbitMqSettings.PasswordPurpose),
            body.Tls ?? current.Tls,
            managementUrl,
            communication);
        StoredSecretRule.Check(errors, "password", body.Password is not null, current.PasswordSet, Target(current), Target(merged));
        return merged;

        static (string, int, string, string, bool, string) Target(RabbitMqSettings s) => (s.Host, s.Port, s.VirtualHost, s.User, s.Tls, s.EffectiveManagementUrl);
    }

    private static IRabbitMqSettingsGrain RabbitMq(IGrainFactory grains) => grains.GetGrain<IRabbitMqSettingsGrain>(GrainBrokerSettingsSource.RabbitMqSettingsKey);

    private static RabbitMqSettingsView ToView(RabbitMqSettings s) =>
        new(s.Host, s.Port, s.VirtualHost, s.User, s.PasswordSet, s.Tls, s.EffectiveManagementUrl, ServerMapping.Wire(s.DefaultCommunication));

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "RabbitMQ connection test to {Connection}: {Reason}")]
    private static partial void LogRabbitMqTest(ILogger logger, string connection, string reason);
}
