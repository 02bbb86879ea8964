using System.Text.Json;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.State;

/// <summary>Contents of <c>agent.json</c> in the state directory.</summary>
internal sealed record AgentSettings(string ServerId, string ServerName, string AgentUrl, int HeartbeatIntervalSeconds)
{
    /// <summary>What to collect and how often, as the control plane last said (defaults until it says).</summary>
    public AgentMonitoringConfig Monitoring { get; init; } = AgentMonitoringConfig.Default;

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
            writer.WriteStartObject("monitoring");
            writer.WriteBoolean("system_monitoring", Monitoring.SystemMonitoring);
            writer.WriteNumber("system_interval_seconds", Monitoring.SystemIntervalSeconds);
            writer.WriteBoolean("dns_monitoring", Monitoring.DnsMonitoring);
            writer.WriteNumber("dns_interval_seconds", Monitoring.DnsIntervalSeconds);
            writer.WriteBoolean("dhcp_monitoring", Monitoring.DhcpMonitoring);
            writer.WriteNumber("dhcp_interval_seconds", Monitoring.DhcpIntervalSeconds);
            writer.WriteEndObject();
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

            var monitoring = AgentMonitoringConfig.Default;
            if (root.TryGetProperty("monitoring", out var m) && m.ValueKind == JsonValueKind.Object)
            {
                monitoring = new AgentMonitoringConfig(
                    Bool(m, "system_monitoring", monitoring.SystemMonitoring),
                    PositiveInt(m, "system_interval_seconds", monitoring.SystemIntervalSeconds, source),
                    Bool(m, "dns_monitoring", monitoring.DnsMonitoring),
                    PositiveInt(m, "dns_interval_seconds", monitoring.DnsIntervalSeconds, source),
                    Bool(m, "dhcp_monitoring", monitoring.DhcpMonitoring),
                    PositiveInt(m, "dhcp_interval_seconds", monitoring.DhcpIntervalSeconds, source));
            }

            return new AgentSettings(serverId, serverName, agentUrl, interval) { Monitoring = monitoring };
        }
    }

    private static bool Bool(JsonElement parent, string name, bool fallback) =>
        parent.TryGetProperty(name, out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : fallback;

    private static int PositiveInt(JsonElement parent, string name, int fallback, string source)
    {
        if (!parent.TryGetProperty(name, out var e))
        {
            return fallback;
        }

        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var value) && value > 0
            ? value
            : throw new AgentException($"{source}: monitoring.{name} must be a positive whole number");
    }

    private static string RequiredString(JsonElement root, string name, string source) =>
        OptionalString(root, name) is { Length: > 0 } value ? value : throw new AgentException($"{source}: missing '{name}'");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
}
