using System.Net;
using System.Net.Sockets;
using System.Text;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// Opt-in Prometheus scrape target (<c>run --metrics-listen ADDRESS:PORT</c>): a minimal HTTP/1.1 server on a
/// raw <see cref="TcpListener"/> (no ASP.NET Core in the agent) that answers <c>GET /metrics</c> (and HEAD)
/// with <see cref="PrometheusText.Format"/> of the latest sample, 404 for other paths, 405 for other methods,
/// one request per connection. At most 8 connections are served at once, each within 10 s. When the
/// address cannot be bound the error is logged and the agent runs on without the endpoint.
/// </summary>
internal sealed class PrometheusEndpoint(IPEndPoint listen, Func<string> render, ILogger<PrometheusEndpoint> logger)
    : TcpEndpointService(listen, MaxConnections)
{
    private const int MaxConnections = 8;
    private const int MaxRequestBytes = 8 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    protected override void OnListening(string address) => logger.MetricsEndpointListening(address);

    protected override void OnListenFailed(string address, string error) => logger.MetricsEndpointFailed(address, error);

    protected override void OnRequestFailed(string? remote, string error) => logger.MetricsRequestFailed(remote, error);

    protected override async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        string? remote = null;
        try
        {
            remote = client.RemoteEndPoint?.ToString();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(RequestTimeout);
            var request = await ReadRequestHeadAsync(client, timeout.Token);
            var response = Respond(request);
            await client.SendAsync(response, SocketFlags.None, timeout.Token);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            logger.MetricsRequestFailed(remote, e.Message);
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>The request line and headers up to the empty line; null when too large or the client stopped early.</summary>
    private static async Task<byte[]?> ReadRequestHeadAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return null;
            }

            var searchFrom = Math.Max(0, length - 3);
            length += read;
            var window = buffer.AsSpan(searchFrom, length - searchFrom);
            if (window.IndexOf("\r\n\r\n"u8) >= 0 || window.IndexOf("\n\n"u8) >= 0)
            {
                return buffer[..length];
            }
        }

        return null;
    }

    /// <summary>The whole HTTP response to a request head (null: unreadable).</summary>
    internal byte[] Respond(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty)
        {
            return Response(400, "Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), includeBody: true);
        }

        var lineEnd = head.IndexOf((byte)'\n');
        var requestLine = (lineEnd >= 0 ? head[..lineEnd] : head).TrimEnd((byte)'\r');
        var firstSpace = requestLine.IndexOf((byte)' ');
        var rest = firstSpace > 0 ? requestLine[(firstSpace + 1)..] : default;
        var secondSpace = rest.IndexOf((byte)' ');
        if (firstSpace <= 0 || secondSpace <= 0 || !rest[(secondSpace + 1)..].StartsWith("HTTP/1."u8))
        {
            return Response(400, "Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), includeBody: true);
        }

        var method = requestLine[..firstSpace];
        var target = rest[..secondSpace];
        var query = target.IndexOf((byte)'?');
        var path = query >= 0 ? target[..query] : target;
        var isHead = method.SequenceEqual("HEAD"u8);
        if (!isHead && !method.SequenceEqual("GET"u8))
        {
            return Response(405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n"u8.ToArray(), includeBody: true, extraHeaders: "Allow: GET, HEAD\r\n");
        }

        if (!path.SequenceEqual("/metrics"u8))
        {
            return Response(404, "Not Found", "text/plain; charset=utf-8", "not found; metrics are at /metrics\n"u8.ToArray(), includeBody: !isHead);
        }

        var body = Encoding.UTF8.GetBytes(render());
        return Response(200, "OK", PrometheusText.ContentType, body, includeBody: !isHead);
    }

    private static byte[] Response(int status, string reason, string contentType, byte[] body, bool includeBody, string extraHeaders = "")
    {
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n");
        return includeBody ? [.. head, .. body] : head;
    }
}
