using System.Text.Json;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Http;
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
    public Task<(SendOutcome Outcome, string? Error)> SendAsync(DnsMetricsBatch batch, CancellationToken cancellationToken) =>
        HttpsBatchPost.SendAsync(connection, exit, AgentApi.DnsMetrics, batch, ContractsJson.Default.DnsMetricsBatch, cancellationToken);
}

/// <summary>AMQP push (kind <see cref="AmqpTopology.DnsMetricsKind"/>), persistent with a publisher confirm (see <see cref="AmqpConfirmedBatches"/>).</summary>
internal sealed class AmqpDnsMetricsSender(AmqpAgentService amqp, TimeProvider time) : IDnsMetricsSender
{
    private readonly AmqpConfirmedBatches _batches = new(amqp, time, AmqpTopology.DnsMetricsKind, "the DNS interval");

    public Task<(SendOutcome Outcome, string? Error)> SendAsync(DnsMetricsBatch batch, CancellationToken cancellationToken) =>
        _batches.SendAsync(batch.BatchId, () => JsonSerializer.SerializeToUtf8Bytes(batch, ContractsJson.Default.DnsMetricsBatch), cancellationToken);
}
