using System.Text.Json;

namespace ManagedServers.Agent.State;

/// <summary>Contents of <c>agent.json</c> in the state directory.</summary>
internal sealed record AgentSettings(string ServerId, string ServerName, string AgentUrl, int HeartbeatIntervalSeconds)
{
    /// <summary>Serializes to the snake_case file format (written by hand: the agent is trimmed and uses no reflection JSON).</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("server_id", ServerId);
            writer.WriteString("server_name", ServerName);
            writer.WriteString("agent_url", AgentUrl);
            writer.WriteNumber("heartbeat_interval_seconds", HeartbeatIntervalSeconds);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Parses <c>agent.json</c>; throws <see cref="AgentException"/> with a readable message.</summary>
    public static AgentSettings Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new AgentException($"{source} is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AgentException($"{source} must contain a JSON object");
            }

            var serverId = RequiredString(root, "server_id", source);
            var serverName = OptionalString(root, "server_name") ?? serverId;
            var agentUrl = RequiredString(root, "agent_url", source);
            var interval = 30;
            if (root.TryGetProperty("heartbeat_interval_seconds", out var i))
            {
                if (i.ValueKind != JsonValueKind.Number || !i.TryGetInt32(out interval) || interval <= 0)
                {
                    throw new AgentException($"{source}: heartbeat_interval_seconds must be a positive whole number");
                }
            }

            return new AgentSettings(serverId, serverName, agentUrl, interval);
        }
    }

    private static string RequiredString(JsonElement root, string name, string source) =>
        OptionalString(root, name) is { Length: > 0 } value ? value : throw new AgentException($"{source}: missing '{name}'");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
}
