using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Interfaces.Servers;

// The agent contracts are plain JSON records (the agent is trimmed and knows nothing of Orleans).
// These surrogates let Orleans carry them through grain calls and streams in their wire form, and
// are found automatically wherever Grains.Interfaces is loaded: no host has to register a codec.

/// <summary>A contract in its JSON wire form.</summary>
[GenerateSerializer, Immutable, Alias("ms.JsonContract")]
public readonly record struct JsonContractSurrogate([property: Id(0)] byte[] Utf8Json);

[RegisterConverter]
public sealed class HeartbeatConverter : IConverter<Heartbeat, JsonContractSurrogate>
{
    public Heartbeat ConvertFromSurrogate(in JsonContractSurrogate surrogate) =>
        JsonSerializer.Deserialize(surrogate.Utf8Json, ContractsJson.Default.Heartbeat)!;

    public JsonContractSurrogate ConvertToSurrogate(in Heartbeat value) =>
        new(JsonSerializer.SerializeToUtf8Bytes(value, ContractsJson.Default.Heartbeat));
}

[RegisterConverter]
public sealed class AgentCommandConverter : IConverter<AgentCommand, JsonContractSurrogate>
{
    public AgentCommand ConvertFromSurrogate(in JsonContractSurrogate surrogate) =>
        JsonSerializer.Deserialize(surrogate.Utf8Json, ContractsJson.Default.AgentCommand)!;

    public JsonContractSurrogate ConvertToSurrogate(in AgentCommand value) =>
        new(JsonSerializer.SerializeToUtf8Bytes(value, ContractsJson.Default.AgentCommand));
}

[RegisterConverter]
public sealed class CommandResultConverter : IConverter<CommandResult, JsonContractSurrogate>
{
    public CommandResult ConvertFromSurrogate(in JsonContractSurrogate surrogate) =>
        JsonSerializer.Deserialize(surrogate.Utf8Json, ContractsJson.Default.CommandResult)!;

    public JsonContractSurrogate ConvertToSurrogate(in CommandResult value) =>
        new(JsonSerializer.SerializeToUtf8Bytes(value, ContractsJson.Default.CommandResult));
}
