using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Running;
using ManagedServers.Agent.Transport;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>Sends DNS monitoring intervals over the agent's transport (same outcomes as <see cref="IMetricsSender"/>).</summary>
internal interface IDnsMetricsSender
{
    Task<(SendOutcome Outcome, string? Error)> SendAsync(DnsMetricsBatch batch, CancellationToken cancellationToken);
}

/// <summary>HTTPS push: POST <see cref="AgentApi.DnsMetrics"/> over mTLS; a 200 means the interval is stored.</summary>
internal sealed class HttpsDnsMetricsSender(AgentConnection connection, AgentExit exit) : IDnsMetricsSender
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task<(SendOutcome Outcome, string? Error)> SendAsync(DnsMetricsBatch batch, CancellationToken cancellationToken)
    {
        var uri = connection.Resolve(AgentApi.DnsMetrics);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var content = JsonContent.Create(batch, ContractsJson.Default.DnsMetricsBatch);
            using var response = await connection.Client.PostAsync(uri, content, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                return (SendOutcome.Accepted, null);
            }

            var problem = await ProblemInfo.ReadAsync(response, timeout.Token);
            if (problem.IsAgentRevoked)
            {
                exit.SetRefused();
                return (SendOutcome.Failed, problem.Describe());
            }

            return problem.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnprocessableEntity
                ? (SendOutcome.Refused, problem.Describe())
                : (SendOutcome.Failed, problem.Describe());
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return (SendOutcome.Failed, TransportErrors.Describe(e, uri, connection.Trust));
        }
    }
}

/// <summary>AMQP push (kind <see cref="AmqpTopology.DnsMetricsKind"/>), persistent with a publisher confirm, like <see cref="AmqpMetricsSender"/>.</summary>
internal sealed class AmqpDnsMetricsSender(AmqpAgentService amqp, TimeProvider time) : IDnsMetricsSender
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private (Guid BatchId, Task Confirmed)? _pending;

    public async Task<(SendOutcome Outcome, string? Error)> SendAsync(DnsMetricsBatch batch, CancellationToken cancellationToken)
    {
        if (_pending is not { } pending || pending.BatchId != batch.BatchId)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(batch, ContractsJson.Default.DnsMetricsBatch);
            pending = (batch.BatchId, await amqp.QueueConfirmedAsync(AmqpTopology.DnsMetricsKind, body, batch.BatchId.ToString("N"), cancellationToken));
            _pending = pending;
        }

        try
        {
            await pending.Confirmed.WaitAsync(Timeout, time, cancellationToken);
            _pending = null;
            return (SendOutcome.Accepted, null);
        }
        catch (TimeoutException)
        {
            return (SendOutcome.Failed, $"RabbitMQ did not confirm the DNS interval within {Timeout.TotalSeconds:0} s");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _pending = null;
            return (SendOutcome.Failed, "the DNS interval was dropped from the full outbox while RabbitMQ was away");
        }
    }
}
