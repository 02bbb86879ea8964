using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ManagedServers.Agent.Engines;

/// <summary>Kea's answer to a control command: <c>result</c> (0 success, 1 error, 2 unsupported, 3 empty), <c>text</c>, <c>arguments</c>.</summary>
internal sealed record KeaAnswer(int Result, string? Text, JsonNode? Arguments)
{
    public bool Ok => Result == 0;

    /// <summary>Kea's message, or the result code when it gave none.</summary>
    public string Message => Text ?? $"result {Result}";
}

/// <summary>A Kea control command could not be sent or answered (socket missing, timeout, not JSON).</summary>
internal sealed class KeaControlException(string message) : Exception(message);

/// <summary>
/// Kea's control channel: one JSON command per connection to the daemon's unix socket, the answer read until it
/// parses (Kea 2.2 may keep the connection open) or the socket closes.
/// </summary>
internal static class KeaControl
{
    public static async Task<KeaAnswer> SendAsync(string socketPath, string command, JsonNode? arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var request = new JsonObject { ["command"] = command };
        if (arguments is not null)
        {
            request["arguments"] = arguments.DeepClone();
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), limit.Token);
            await socket.SendAsync(Encoding.UTF8.GetBytes(request.ToJsonString()), SocketFlags.None, limit.Token);
            var received = new MemoryStream();
            var buffer = new byte[64 * 1024];
            JsonNode? answer = null;
            while (answer is null)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
                if (read == 0)
                {
                    answer = TryParse(received.ToArray()) ?? throw new KeaControlException($"Kea's answer to {command} on {socketPath} is not JSON");
                    break;
                }

                received.Write(buffer, 0, read);
                if (EndsAnswer(buffer.AsSpan(0, read)))
                {
                    answer = TryParse(received.ToArray()); // only when a read ends like a JSON document: no quadratic re-parsing of a large answer
                }
            }

            // Kea answers an object, or (through the control agent) a list of them.
            var root = answer is JsonArray { Count: > 0 } list ? list[0] : answer;
            return new KeaAnswer(
                root?["result"] is JsonValue r && r.TryGetValue<int>(out var code) ? code : -1,
                root?["text"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null,
                root?["arguments"]);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KeaControlException($"no answer to {command} on {socketPath} within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            throw new KeaControlException($"cannot reach {socketPath}: {e.Message}");
        }
    }

    /// <summary>Whether the last non-blank byte read closes an object or an array (a complete answer can only end so).</summary>
    private static bool EndsAnswer(ReadOnlySpan<byte> read)
    {
        var trimmed = read.TrimEnd(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[^1] is (byte)'}' or (byte)']';
    }

    private static JsonNode? TryParse(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
