using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ManagedServers.Agent.Http;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Hosting;

/// <summary>
/// Sends a heartbeat every interval (one in flight at most; a late tick is sent once, never caught up),
/// follows the interval the control plane answers with, stops the host with exit code 3 when the control
/// plane says this agent is revoked, and sends a final heartbeat with Stopping = true on shutdown.
/// </summary>
internal sealed class HeartbeatService(
    AgentConnection connection,
    AgentRuntimeSettings settings,
    AgentInfo info,
    AgentExit exit,
    AgentRunOptions options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    private static readonly TimeSpan MinRequestTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromSeconds(30);

    private enum OutcomeKind
    {
        Acknowledged,
        Failed,
        Rejected,
        Revoked,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var rejections = new Backoff(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));
        var next = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await info.WaitForHeartbeatDueAsync(next - time.GetUtcNow(), stoppingToken))
            {
                return;
            }

            var started = time.GetUtcNow();
            var interval = settings.HeartbeatInterval;
            var outcome = await SendAsync(stopping: false, RequestTimeout(interval), stoppingToken);
            switch (outcome.Kind)
            {
                case OutcomeKind.Acknowledged:
                    if (failures > 0 || rejections.Failures > 0)
                    {
                        logger.HeartbeatRecovered(failures + rejections.Failures);
                    }

                    failures = 0;
                    rejections.Reset();
                    logger.HeartbeatAcknowledged(outcome.Sequence);
                    ApplyAck(outcome.Ack);
                    next = started + settings.HeartbeatInterval;
                    break;
                case OutcomeKind.Revoked:
                    logger.AgentRefused(outcome.Problem!.Explanation);
                    exit.SetRefused();
                    lifetime.StopApplication();
                    return;
                case OutcomeKind.Rejected:
                    var wait = rejections.Next();
                    if (wait < interval)
                    {
                        wait = interval;
                    }

                    logger.HeartbeatRejected(outcome.Sequence, (int)outcome.Problem!.Status, outcome.Problem.Explanation, wait.TotalSeconds);
                    next = time.GetUtcNow() + wait;
                    break;
                default:
                    if (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }

                    failures++;
                    logger.HeartbeatFailed(outcome.Sequence, failures, outcome.Error!);
                    next = started + interval;
                    break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (exit.Refused)
        {
            return;
        }

        var outcome = await SendAsync(stopping: true, options.StoppingHeartbeatTimeout, cancellationToken);
        if (outcome.Kind == OutcomeKind.Acknowledged)
        {
            logger.StoppingHeartbeatSent(outcome.Sequence);
        }
        else
        {
            logger.StoppingHeartbeatFailed(outcome.Error ?? outcome.Problem?.Describe() ?? "unknown error");
        }
    }

    private static TimeSpan RequestTimeout(TimeSpan interval) =>
        interval < MinRequestTimeout ? MinRequestTimeout : interval > MaxRequestTimeout ? MaxRequestTimeout : interval;

    private void ApplyAck(HeartbeatAck? ack)
    {
        if (ack is null)
        {
            return;
        }

        settings.Apply(ack.HeartbeatIntervalSeconds, ack.Monitoring, logger);
    }

    private async Task<Outcome> SendAsync(bool stopping, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var sequence = info.NextSequence();
        var heartbeat = info.NewHeartbeat(settings, sequence, stopping);

        var uri = connection.Resolve(AgentEndpoints.Heartbeat);
        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            using var content = JsonContent.Create(heartbeat, ContractsJson.Default.Heartbeat);
            using var response = await connection.Client.PostAsync(uri, content, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                var problem = await ProblemInfo.ReadAsync(response, linked.Token);
                return problem.IsAgentRevoked ? new Outcome(OutcomeKind.Revoked, sequence, Problem: problem)
                    : problem.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? new Outcome(OutcomeKind.Rejected, sequence, Problem: problem)
                    : new Outcome(OutcomeKind.Failed, sequence, Error: problem.Describe(), Problem: problem);
            }

            // An empty success body (e.g. 204) is an acknowledgement without settings.
            var body = await response.Content.ReadAsByteArrayAsync(linked.Token);
            var ack = body.Length > 0 ? JsonSerializer.Deserialize(body, ContractsJson.Default.HeartbeatAck) : null;

            return new Outcome(OutcomeKind.Acknowledged, sequence, Ack: ack);
        }
        catch (Exception e)
        {
            return new Outcome(OutcomeKind.Failed, sequence, Error: TransportErrors.Describe(e, uri, connection.Trust));
        }
    }

    private sealed record Outcome(OutcomeKind Kind, long Sequence, HeartbeatAck? Ack = null, ProblemInfo? Problem = null, string? Error = null);
}
