using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Interfaces.Servers;

// The agent contracts are plain JSON records (the agent is trimmed and knows nothing of Orleans).
// These surrogates let Orleans carry them through grain calls and streams in their wire form, and
// are found automatically wherever Grains.Interfaces is loaded: no host has to register a codec.

/// <summary>A contract in its JSON wire form.</summary>
[GenerateSerializer, Immutable, Alias("ms.JsonContract")]
public readonly record struct JsonContractSurrogate([property: Id(0)] byte[] Utf8Json);

/// <summary>Converts a contract to and from its JSON wire form with its source-generated metadata.</summary>
public abstract class JsonContractConverter<T>(JsonTypeInfo<T> typeInfo) : IConverter<T, JsonContractSurrogate>
{
    public T ConvertFromSurrogate(in JsonContractSurrogate surrogate) => JsonSerializer.Deserialize(surrogate.Utf8Json, typeInfo)!;

    public JsonContractSurrogate ConvertToSurrogate(in T value) => new(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
}

[RegisterConverter]
public sealed class HeartbeatConverter() : JsonContractConverter<Heartbeat>(ContractsJson.Default.Heartbeat);

[RegisterConverter]
public sealed class AgentCommandConverter() : JsonContractConverter<AgentCommand>(ContractsJson.Default.AgentCommand);

[RegisterConverter]
public sealed class CommandResultConverter() : JsonContractConverter<CommandResult>(ContractsJson.Default.CommandResult);

[RegisterConverter]
public sealed class MetricsBatchConverter() : JsonContractConverter<MetricsBatch>(ContractsJson.Default.MetricsBatch);

[RegisterConverter]
public sealed class DnsMetricsBatchConverter() : JsonContractConverter<DnsMetricsBatch>(ContractsJson.Default.DnsMetricsBatch);

[RegisterConverter]
public sealed class DhcpMetricsBatchConverter() : JsonContractConverter<DhcpMetricsBatch>(ContractsJson.Default.DhcpMetricsBatch);
