using System.Net;
using System.Net.Sockets;
using System.Text;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// Opt-in Prometheus scrape target (<c>run --metrics-listen ADDRESS:PORT</c>): a minimal HTTP/1.1 server on a
/// raw <see cref="TcpListener"/> (no ASP.NET Core in the agent) that answers <c>GET /metrics</c> (and HEAD)
/// with <see cref="PrometheusText.Format"/> of the latest sample, 404 for other paths, 405 for other methods,
/// one request per connection. At most 8 connections are served at once, each within 10 s. When the
/// address cannot be bound the error is logged and the agent runs on without the endpoint.
/// </summary>
internal sealed class PrometheusEndpoint(IPEndPoint listen, Func<SystemSample?> sample, ILogger<PrometheusEndpoint> logger) : BackgroundService
{
    private const int MaxConnections = 8;
    private const int MaxRequestBytes = 8 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private TcpListener? _listener;
    private int _connections;

    /// <summary>The bound address once started (the real port when <c>listen</c> has port 0); null when not listening.</summary>
    public IPEndPoint? LocalEndpoint { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var listener = new TcpListener(listen);
        try
        {
            listener.Start();
            _listener = listener;
            LocalEndpoint = (IPEndPoint)listener.LocalEndpoint;
            logger.MetricsEndpointListening(LocalEndpoint.ToString());
        }
        catch (SocketException e)
        {
            listener.Dispose();
            logger.MetricsEndpointFailed(listen.ToString(), e.Message);
        }

        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is not { } listener)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptSocketAsync(stoppingToken);
                }
                catch (SocketException e)
                {
                    logger.MetricsRequestFailed(null, e.Message); // e.g. a connection reset before accept
                    continue;
                }

                if (Interlocked.Increment(ref _connections) > MaxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    client.Dispose(); // too many scrapers at once
                    continue;
                }

                _ = ServeAsync(client, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
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
            Interlocked.Decrement(ref _connections);
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

        var body = Encoding.UTF8.GetBytes(PrometheusText.Format(sample()));
        return Response(200, "OK", PrometheusText.ContentType, body, includeBody: !isHead);
    }

    private static byte[] Response(int status, string reason, string contentType, byte[] body, bool includeBody, string extraHeaders = "")
    {
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n");
        return includeBody ? [.. head, .. body] : head;
    }
}
