using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ManagedServers.Agent.Dns;

namespace ManagedServers.Agent.Services;

/// <summary>Outcome of one probe: whether the service answered, what it said (rcode or Kea message), and how fast.</summary>
internal sealed record ProbeResult(bool Ok, string Message, TimeSpan Latency);

/// <summary>
/// "Is it answering?" checks, shared by <c>service.install</c> and diagnostics. DNS: one UDP query (SOA of the root)
/// from the agent's probe socket (<see cref="AgentDnsProbe"/>, so DNS monitoring leaves it out); any DNS response counts,
/// REFUSED included (a server with no zones refuses). Kea: <c>status-get</c> over its unix control socket must return result 0.
/// </summary>
internal static class ServiceProbes
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>One probe of a loop that waits for a service to answer (install, start, restart): short, it is repeated.</summary>
    public static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(250);

    public static async Task<ProbeResult> DnsAsync(IPEndPoint endpoint, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var answer = await AgentDnsProbe.Shared.QuerySoaAsync(endpoint, ".", timeout ?? DefaultTimeout, cancellationToken);
        return answer.Answered
            ? new ProbeResult(true, answer.RcodeText, answer.Latency)
            : new ProbeResult(false, answer.Error ?? $"no answer from {endpoint}", answer.Latency);
    }

    /// <summary><c>{"command":"status-get"}</c> on Kea's control socket; ok when <c>result</c> is 0.</summary>
    public static async Task<ProbeResult> KeaStatusAsync(string socketPath, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), limit.Token);
            await socket.SendAsync("{\"command\":\"status-get\"}"u8.ToArray(), SocketFlags.None, limit.Token);
            var received = new MemoryStream();
            var buffer = new byte[8192];
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (TryParse(received.ToArray(), out _))
                {
                    break; // a complete answer: Kea may keep the connection open
                }
            }

            if (!TryParse(received.ToArray(), out var answer))
            {
                return new ProbeResult(false, $"no valid answer on {socketPath}", Stopwatch.GetElapsedTime(started));
            }

            // Kea answers an object, or (from the control agent) an array of objects.
            var root = answer.ValueKind == JsonValueKind.Array && answer.GetArrayLength() > 0 ? answer[0] : answer;
            var result = root.TryGetProperty("result", out var r) && r.TryGetInt32(out var code) ? code : -1;
            var text = root.TryGetProperty("text", out var t) ? t.GetString() : null;
            return new ProbeResult(result == 0, text ?? $"result {result}", Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, $"no answer on {socketPath} within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s", Stopwatch.GetElapsedTime(started));
        }
        catch (SocketException e)
        {
            return new ProbeResult(false, $"cannot reach {socketPath}: {e.Message}", Stopwatch.GetElapsedTime(started));
        }
    }

    private static bool TryParse(byte[] bytes, out JsonElement element)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            element = document.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            element = default;
            return false;
        }
    }

    /// <summary>For logs and steps: "REFUSED in 3 ms".</summary>
    public static string Describe(ProbeResult result) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{result.Message} in {result.Latency.TotalMilliseconds:0} ms");
}
