using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// The wire form of ingestion messages: the contract's JSON (as agents publish it), the message kind
/// in the routing key and in the AMQP <c>type</c> property. The stream namespace is the kind, so a
/// heartbeat published by an agent and one posted over HTTPS become the same stream event.
/// </summary>
public static class IngestCodec
{
    /// <summary>Namespace (= kind) to contract type.</summary>
    public static Type? TypeOf(string kind) => kind switch
    {
        AmqpTopology.HeartbeatKind => typeof(Heartbeat),
        AmqpTopology.ResultKind => typeof(CommandResult),
        AmqpTopology.MetricsKind => typeof(MetricsBatch),
        AmqpTopology.DnsMetricsKind => typeof(DnsMetricsBatch),
        AmqpTopology.DhcpMetricsKind => typeof(DhcpMetricsBatch),
        _ => null,
    };

    public static byte[] Serialize(object message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), ContractsJson.Default);

    /// <summary>Deserializes a message of <paramref name="kind"/> and checks it claims to come from <paramref name="serverId"/>.</summary>
    public static object Deserialize(string kind, string serverId, ReadOnlySpan<byte> body)
    {
        var type = TypeOf(kind) ?? throw new FormatException($"unknown message kind '{kind}'");
        var message = JsonSerializer.Deserialize(body, type, ContractsJson.Default) ?? throw new FormatException("empty message");
        var claimed = message switch
        {
            Heartbeat h => h.ServerId,
            MetricsBatch m => m.ServerId,
            DnsMetricsBatch d => d.ServerId,
            DhcpMetricsBatch d => d.ServerId,
            _ => serverId, // results carry no server id: the routing key (confined per agent) names it
        };
        if (!string.Equals(claimed, serverId, StringComparison.Ordinal))
        {
            throw new FormatException($"message for server '{claimed}' published under '{serverId}'");
        }

        return message;
    }
}
