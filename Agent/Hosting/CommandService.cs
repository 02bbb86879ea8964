using System.Net;
using System.Net.Http.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Http;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Hosting;

/// <summary>
/// Long-polls <c>GET /api/v1/agent/commands?wait_seconds=N</c>, executes each command once through
/// <see cref="CommandExecutor"/> and posts its result; results not yet delivered are retried before the
/// next poll. Errors back off with jitter from 1 s to 30 s.
/// </summary>
internal sealed class CommandService(
    AgentConnection connection,
    CommandExecutor executor,
    AgentRunOptions options,
    TimeProvider time,
    ILogger<CommandService> logger) : BackgroundService
{
    private static readonly TimeSpan MinPollSpacing = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollGrace = TimeSpan.FromSeconds(15);

    private readonly Queue<CommandResult> _undelivered = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeliverResultsAsync(stoppingToken);
                var started = time.GetTimestamp();
                var commands = await PollAsync(stoppingToken);
                backoff.Reset();
                if (commands.Length > 0)
                {
                    logger.CommandsReceived(commands.Length);
                }

                foreach (var command in commands)
                {
                    _undelivered.Enqueue(await executor.ExecuteAsync(command, stoppingToken));
                }

                await DeliverResultsAsync(stoppingToken);

                // A control plane that answers an empty poll at once must not make this loop spin.
                var elapsed = time.GetElapsedTime(started);
                if (commands.Length == 0 && elapsed < MinPollSpacing && !await Delays.TryDelayAsync(MinPollSpacing - elapsed, time, stoppingToken))
                {
                    return;
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = backoff.Next();
                logger.CommandPollFailed(backoff.Failures, TransportErrors.Describe(e, connection.BaseUri, connection.Trust), delay.TotalSeconds);
                if (!await Delays.TryDelayAsync(delay, time, stoppingToken))
                {
                    return;
                }
            }
        }
    }

    private async Task<AgentCommand[]> PollAsync(CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.CommandWaitSeconds) + PollGrace, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        using var response = await connection.Client.GetAsync(connection.Resolve(AgentEndpoints.CommandsPoll(options.CommandWaitSeconds)), linked.Token);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return [];
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new ControlPlaneException(await ProblemInfo.ReadAsync(response, linked.Token));
        }

        return await response.Content.ReadFromJsonAsync(ContractsJson.Default.AgentCommandArray, linked.Token) ?? [];
    }

    private async Task DeliverResultsAsync(CancellationToken stoppingToken)
    {
        while (_undelivered.TryPeek(out var result))
        {
            using var timeout = new CancellationTokenSource(ResultTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            using var content = JsonContent.Create(result, ContractsJson.Default.CommandResult);
            using var response = await connection.Client.PostAsync(connection.Resolve(AgentEndpoints.CommandResult(result.CommandId)), content, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                var problem = await ProblemInfo.ReadAsync(response, linked.Token);
                if (!IsPermanent(problem.Status))
                {
                    throw new ControlPlaneException(problem);
                }

                // The control plane will never take this result (unknown or gone command): stop retrying it.
                logger.CommandResultDropped(result.CommandId, problem.Describe());
            }
            else
            {
                logger.CommandResultDelivered(result.CommandId);
            }

            _undelivered.Dequeue();
        }
    }

    private static bool IsPermanent(HttpStatusCode status) =>
        (int)status is >= 400 and < 500
        && status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
}
