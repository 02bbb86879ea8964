using System.Security.Claims;
using ManagedServers.Api.Broker;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Shared.Telemetry;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Orleans.Runtime;
using Orleans.Streams;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// Endpoints agents call on the mTLS listener. The server an agent speaks for comes from its
/// certificate, never from the URL or body: a body naming another server is refused with 403.
/// </summary>
public static partial class AgentEndpoints
{
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/").WithTags(ApiDocument.AgentTag).RequireAuthorization(AuthNames.Agent).WithMetadata(AgentAudience.Instance);
        app.MapPost(AgentApi.Enroll, EnrollAsync).WithTags(ApiDocument.AgentTag).AllowAnonymous().WithMetadata(AgentAudience.Instance)
            .WithName("EnrollAgent").WithSummary("Agent enrolment: one-time token + CSR → short-lived client certificate");
        agent.MapPost(AgentApi.Renew, RenewAsync).WithName("RenewAgentCertificate").WithSummary("Renew the agent's client certificate");
        agent.MapPost(AgentApi.Heartbeat, HeartbeatAsync).WithName("PostHeartbeat").WithSummary("Agent heartbeat (mTLS)")
            .WithMetadata(new RequestSizeLimitAttribute(MaxHeartbeatBytes));
        agent.MapPost(AgentApi.Metrics, MetricsAsync).WithName("PostMetrics").WithSummary("Agent system samples (mTLS); 200 once they are stored");
        agent.MapPost(AgentApi.DnsMetrics, DnsMetricsEndpoints.IngestAsync).WithName("PostDnsMetrics").WithSummary("Agent DNS monitoring interval (mTLS); 200 once it is stored");
        agent.MapPost(AgentApi.DhcpMetrics, DhcpMonitoringEndpoints.IngestAsync).WithName("PostDhcpMetrics").WithSummary("Agent DHCP monitoring interval (mTLS); 200 once it is stored");
        agent.MapGet(AgentApi.Commands, CommandsAsync).WithName("PollCommands").WithSummary("Long-poll for commands");
        agent.MapPost(AgentApi.CommandResultTemplate, ResultAsync).WithName("PostCommandResult").WithSummary("Report a command's result");
        agent.MapGet(AgentApi.ZoneFileTemplate, ServerDnsEndpoints.ZoneFileAsync).WithName("GetAgentZoneFile")
            .WithSummary("A zone file for dns.apply, gzip (only zones assigned to the agent's server)");
        return app;
    }

    public static async Task<Results<Ok<CertificateResponse>, ValidationProblem, ProblemHttpResult>> EnrollAsync(
        EnrollRequest body, IGrainFactory grains, CertificateIssuer issuer, AgentBrokerAccounts broker, IConfiguration configuration, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.ServerId))
        {
            errors.Add("server_id", "is required");
        }
        else if (!ServerIds.IsWellFormed(body.ServerId))
        {
            errors.Add("server_id", "is not a server id (srv- and 16 hex digits, as in the setup bundle)");
        }

        if (string.IsNullOrWhiteSpace(body.Token))
        {
            errors.Add("token", "is required");
        }

        if (string.IsNullOrWhiteSpace(body.CsrPem))
        {
            errors.Add("csr_pem", "is required");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var grain = grains.GetGrain<IManagedServerGrain>(body.ServerId);

        // The token first: nothing an outsider sends reaches the CA before it (throws EnrollmentRefusedException → 401/403).
        var checkedServer = await grain.CheckEnrollmentTokenAsync(body.Token);

        // Then the CSR, before the token is consumed, so a broken agent does not burn its token.
        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
        try
        {
            certificate = await issuer.SignAgentCsrAsync(body.CsrPem, body.ServerId, TimeSpan.FromDays(settings.CertificateDays));
        }
        catch (ArgumentException ex)
        {
            errors.Add("csr_pem", ex.Message.Split(" (Parameter", 2)[0]);
            return errors.ToProblem();
        }

        using (certificate)
        {
            // The token was checked above; provision the broker user, then consume the token: a broker failure
            // (or an invalid token) burns nothing, and an invalid token cannot rotate a working agent's password.
            var logger = loggers.CreateLogger("ManagedServers.Api.Agents");
            var (amqp, brokerProblem) = await ProvisionBrokerAsync(checkedServer, broker, configuration, logger, cancellationToken);
            if (brokerProblem is not null)
            {
                return brokerProblem;
            }

            var server = await grain.RedeemEnrollmentTokenAsync(body.Token);
            await grain.RecordCertificateAsync(Issued(certificate)); // every earlier certificate of this server stops working
            LogEnrolled(logger, server.Id, certificate.NotAfter.ToUniversalTime());
            return TypedResults.Ok(await ResponseAsync(server, certificate, issuer, settings, amqp));
        }
    }

    public static async Task<Results<Ok<CertificateResponse>, ValidationProblem, ProblemHttpResult>> RenewAsync(
        RenewRequest body, ClaimsPrincipal user, HttpContext context, IGrainFactory grains, CertificateIssuer issuer, AgentBrokerAccounts broker, IConfiguration configuration, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var presented = context.Connection.ClientCertificate!.SerialNumber; // the agent policy admitted only a client certificate
        var serverId = ServersEndpoints.ServerIdOf(user)!;
        var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
        try
        {
            certificate = await issuer.SignAgentCsrAsync(body.CsrPem ?? string.Empty, serverId, TimeSpan.FromDays(settings.CertificateDays));
        }
        catch (ArgumentException ex)
        {
            var errors = new FieldErrors();
            errors.Add("csr_pem", ex.Message.Split(" (Parameter", 2)[0]);
            return errors.ToProblem();
        }

        using (certificate)
        {
            var grain = grains.GetGrain<IManagedServerGrain>(serverId);
            var current = await grain.GetAsync();
            if (current is null)
            {
                return Problem.Of(403, "Agent refused", "server was deleted", ProblemTypes.AgentRevoked);
            }

            // Recorded first: a refused renewal (a replaced certificate, perhaps a copy) must not rotate the broker password.
            try
            {
                await grain.RecordCertificateAsync(Issued(certificate), renewedFrom: presented);
            }
            catch (ConflictException ex)
            {
                // Only the current certificate renews: this one was replaced (its holder may be a copy of the agent).
                await grain.ReportRefusedCertificateAsync(presented, context.Connection.RemoteIpAddress?.ToString());
                return Problem.Of(403, "Agent refused", ex.Message + "; enrol again with a new setup bundle", ProblemTypes.AgentRevoked);
            }

            // A broker failure now leaves the new certificate unused: the agent's next attempt replaces it.
            var (amqp, brokerProblem) = await ProvisionBrokerAsync(current, broker, configuration, loggers.CreateLogger("ManagedServers.Api.Agents"), cancellationToken);
            if (brokerProblem is not null)
            {
                return brokerProblem;
            }

            var server = await grain.GetAsync();
            return server is null
                ? Problem.Of(403, "Agent refused", "server was deleted", ProblemTypes.AgentRevoked)
                : TypedResults.Ok(await ResponseAsync(server, certificate, issuer, settings, amqp));
        }
    }

    public static async Task<Results<Ok<HeartbeatAck>, ValidationProblem, ProblemHttpResult>> HeartbeatAsync(
        Heartbeat body, ClaimsPrincipal user, IClusterClient cluster, TimeProvider time)
    {
        if (ServersEndpoints.ForeignPost(user, body.ServerId) is { } foreign)
        {
            return foreign;
        }

        var serverId = body.ServerId;

        if (body.Sequence < 1 || body.BootId == Guid.Empty)
        {
            var errors = new FieldErrors();
            if (body.Sequence < 1)
            {
                errors.Add("sequence", "must be 1 or more");
            }

            if (body.BootId == Guid.Empty)
            {
                errors.Add("boot_id", "is required");
            }

            return errors.ToProblem();
        }

        var stream = cluster.GetStreamProvider(StreamNames.IngestProvider).GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, serverId));
        await stream.OnNextAsync(body);
        FleetMetrics.IngestReceived(AmqpTopology.HeartbeatKind, FleetMetrics.Https);
        var settings = await cluster.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
        return TypedResults.Ok(new HeartbeatAck(settings.HeartbeatIntervalSeconds, time.GetUtcNow(), settings.ToAgentConfig()));
    }

    /// <summary>Largest heartbeat body: a real one is a few KB; its fields are bounded again in the server grain (AgentInput).</summary>
    public const int MaxHeartbeatBytes = 1024 * 1024;

    /// <summary>Most samples one request may carry (a backfilling agent sends several requests).</summary>
    public const int MaxSamplesPerBatch = 1_000;

    /// <summary>Most metrics one sample may carry.</summary>
    public const int MaxMetricsPerSample = 1_000;

    /// <summary>
    /// A batch of system samples. The grain stores them before this answers, so a 200 means durable; a
    /// batch sent again (the agent did not see the answer) stores nothing twice.
    /// </summary>
    public static async Task<Results<Ok<MetricsIngestResult>, ValidationProblem, ProblemHttpResult>> MetricsAsync(
        MetricsBatch body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (ServersEndpoints.ForeignPost(user, body.ServerId) is { } foreign)
        {
            return foreign;
        }

        var serverId = body.ServerId;

        var errors = new FieldErrors();
        if (body.Samples is null)
        {
            errors.Add("samples", "is required");
        }
        else if (body.Samples.Count > MaxSamplesPerBatch)
        {
            errors.Add("samples", $"carries {body.Samples.Count} samples; at most {MaxSamplesPerBatch} per request");
        }
        else
        {
            for (var i = 0; i < body.Samples.Count; i++)
            {
                if (body.Samples[i]?.Values is not { } values)
                {
                    errors.Add($"samples[{i}].values", "is required");
                }
                else if (values.Count > MaxMetricsPerSample)
                {
                    errors.Add($"samples[{i}].values", $"has {values.Count} metrics; at most {MaxMetricsPerSample}");
                }
            }
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await grains.GetGrain<IServerMetricsGrain>(serverId).IngestAsync(body);
        FleetMetrics.IngestReceived(AmqpTopology.MetricsKind, FleetMetrics.Https);
        return TypedResults.Ok(result);
    }

    public static async Task<Ok<AgentCommand[]>> CommandsAsync(ClaimsPrincipal user, IGrainFactory grains, HttpContext context, int? wait_seconds = null)
    {
        var serverId = ServersEndpoints.ServerIdOf(user)!;
        var wait = TimeSpan.FromSeconds(Math.Clamp(wait_seconds ?? 20, 0, 25));
        var grain = grains.GetGrain<IManagedServerGrain>(serverId);
        var commands = await grain.WaitForCommandsAsync(wait);
        if (!commands.IsEmpty && context.RequestAborted.IsCancellationRequested)
        {
            // The agent hung up while we waited (it stopped or restarted): nobody will read this answer.
            await grain.ReleaseCommandsAsync([.. commands.Select(c => c.CommandId)]);
            return TypedResults.Ok(Array.Empty<AgentCommand>());
        }

        return TypedResults.Ok(commands.ToArray());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ResultAsync(
        string commandId, CommandResult body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var serverId = ServersEndpoints.ServerIdOf(user)!;
        if (!string.Equals(body.CommandId, commandId, StringComparison.Ordinal))
        {
            return Problem.Of(400, "Bad request", $"command_id '{body.CommandId}' does not match the URL's '{commandId}'", ProblemTypes.Validation);
        }

        // The grain only knows its own commands: another server's command id is simply unknown here.
        await grains.GetGrain<IManagedServerGrain>(serverId).CompleteCommandAsync(body);
        FleetMetrics.IngestReceived(AmqpTopology.ResultKind, FleetMetrics.Https);
        return TypedResults.NoContent();
    }

    /// <summary>Number of ingestion partitions (<c>RabbitMq:Partitions</c>, default 8): fixed per deployment.</summary>
    public static int Partitions(IConfiguration configuration) => Math.Max(1, configuration.GetValue("RabbitMq:Partitions", AmqpTopology.DefaultPartitions));

    /// <summary>For an AMQP server: its broker user with a fresh password; else nothing. A broker failure is a 503 problem.</summary>
    private static async Task<(AmqpCredentials? Credentials, ProblemHttpResult? Problem)> ProvisionBrokerAsync(
        ServerSnapshot server, AgentBrokerAccounts broker, IConfiguration configuration, ILogger logger, CancellationToken cancellationToken)
    {
        if (server.Definition.Communication != CommunicationMode.Amqp)
        {
            return (null, null);
        }

        try
        {
            return (await broker.ProvisionAsync(server.Id, Partitions(configuration), cancellationToken), null);
        }
        catch (BrokerUnavailableException ex)
        {
            LogBrokerFailed(logger, server.Id, ex.Message);
            return (null, Problem.Of(503, "Broker unavailable", "broker unavailable: " + ex.Message, ProblemTypes.BrokerUnavailable));
        }
    }

    private static AgentCertificate Issued(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        new(certificate.SerialNumber, certificate.NotAfter.ToUniversalTime(), certificate.Issuer);

    private static async Task<CertificateResponse> ResponseAsync(
        ServerSnapshot server, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, CertificateIssuer issuer, MonitoringSettings settings, AmqpCredentials? amqp) =>
        new(
            server.Id,
            server.Definition.Name,
            certificate.ExportCertificatePem(),
            await issuer.GetCaPemAsync(),
            certificate.NotBefore.ToUniversalTime(),
            certificate.NotAfter.ToUniversalTime(),
            settings.HeartbeatIntervalSeconds,
            amqp);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Broker user of server {ServerId} could not be provisioned: {Reason}")]
    private static partial void LogBrokerFailed(ILogger logger, string serverId, string reason);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Agent of server {ServerId} enrolled; certificate valid until {NotAfter:u}")]
    private static partial void LogEnrolled(ILogger logger, string serverId, DateTimeOffset notAfter);
}
