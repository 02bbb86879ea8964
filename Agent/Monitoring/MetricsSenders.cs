using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Transport;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>How a batch left: accepted (remove it from the spool), refused for good (drop it), or failed (keep it, retry later).</summary>
internal enum SendOutcome
{
    Accepted,
    Refused,
    Failed,
}

/// <summary>
/// One kind of telemetry batch the agent sends (system samples, DNS intervals; DHCP statistics next): its name for
/// messages, its HTTPS route, its AMQP message kind, its JSON contract and its batch id (what the control plane
/// de-duplicates on). A new kind is a new instance here; the senders are generic over it.
/// </summary>
internal sealed record TelemetryKind<TBatch>(string What, string HttpsRoute, string AmqpKind, JsonTypeInfo<TBatch> Json, Func<TBatch, Guid> BatchId);

/// <summary>The telemetry kinds this agent sends.</summary>
internal static class TelemetryKinds
{
    public static readonly TelemetryKind<MetricsBatch> System =
        new("the batch", AgentApi.Metrics, AmqpTopology.MetricsKind, ContractsJson.Default.MetricsBatch, b => b.BatchId);

    public static readonly TelemetryKind<DnsMetricsBatch> Dns =
        new("the DNS interval", AgentApi.DnsMetrics, AmqpTopology.DnsMetricsKind, ContractsJson.Default.DnsMetricsBatch, b => b.BatchId);

    public static readonly TelemetryKind<DhcpMetricsBatch> Dhcp =
        new("the DHCP interval", AgentApi.DhcpMetrics, AmqpTopology.DhcpMetricsKind, ContractsJson.Default.DhcpMetricsBatch, b => b.BatchId);
}

/// <summary>Sends telemetry batches of one kind over the agent's transport.</summary>
internal interface ITelemetrySender<TBatch>
{
    Task<(SendOutcome Outcome, string? Error)> SendAsync(TBatch batch, CancellationToken cancellationToken);
}

/// <summary>HTTPS push: POST to the kind's route over mTLS; a 200 means the batch is stored.</summary>
internal sealed class HttpsTelemetrySender<TBatch>(TelemetryKind<TBatch> kind, AgentConnection connection, AgentExit exit) : ITelemetrySender<TBatch>
{
    public Task<(SendOutcome Outcome, string? Error)> SendAsync(TBatch batch, CancellationToken cancellationToken) =>
        HttpsBatchPost.SendAsync(connection, exit, kind.HttpsRoute, batch, kind.Json, cancellationToken);
}

/// <summary>AMQP push of the kind's batches, persistent with a publisher confirm (see <see cref="AmqpConfirmedBatches"/>).</summary>
internal sealed class AmqpTelemetrySender<TBatch>(TelemetryKind<TBatch> kind, AmqpAgentService amqp, TimeProvider time) : ITelemetrySender<TBatch>
{
    private readonly AmqpConfirmedBatches _batches = new(amqp, time, kind.AmqpKind, kind.What);

    public Task<(SendOutcome Outcome, string? Error)> SendAsync(TBatch batch, CancellationToken cancellationToken) =>
        _batches.SendAsync(kind.BatchId(batch), () => JsonSerializer.SerializeToUtf8Bytes(batch, kind.Json), cancellationToken);
}

/// <summary>One batch POSTed over mTLS, the answer sorted into <see cref="SendOutcome"/> (system samples and DNS intervals alike).</summary>
internal static class HttpsBatchPost
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<(SendOutcome Outcome, string? Error)> SendAsync<T>(
        AgentConnection connection, AgentExit exit, string route, T batch, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var uri = connection.Resolve(route);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var content = JsonContent.Create(batch, type);
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

            // 400/413/422: this batch will never be taken; anything else (5xx, 401/403 during renewal, 429) may pass later.
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

/// <summary>
/// AMQP push: published persistent with a publisher confirm; the confirm means the broker has it. A batch sent again
/// after a timeout (same batch id) waits for the copy already in the outbox instead of queueing another, so a broker
/// outage does not fill the outbox with copies of one batch.
/// </summary>
internal sealed class AmqpConfirmedBatches(AmqpAgentService amqp, TimeProvider time, string kind, string what)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private (Guid BatchId, Task Confirmed)? _pending;

    public async Task<(SendOutcome Outcome, string? Error)> SendAsync(Guid batchId, Func<byte[]> body, CancellationToken cancellationToken)
    {
        if (_pending is not { } pending || pending.BatchId != batchId)
        {
            pending = (batchId, await amqp.QueueConfirmedAsync(kind, body(), batchId.ToString("N"), cancellationToken));
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
            return (SendOutcome.Failed, $"RabbitMQ did not confirm {what} within {Timeout.TotalSeconds:0} s");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _pending = null; // pushed out of the full outbox: queue it again next time
            return (SendOutcome.Failed, $"{what} was dropped from the full outbox while RabbitMQ was away");
        }
    }
}
