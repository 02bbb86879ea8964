using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Security;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Security;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// Pull mode (<c>run --pull-listen ADDRESS:PORT</c>), for servers whose firewall blocks connections to the control
/// plane: the control plane connects here and takes the spooled samples. HTTPS on a raw <see cref="TcpListener"/>
/// and <see cref="SslStream"/> (no ASP.NET Core in the agent), presenting the agent's own certificate (re-read
/// after every renewal) and requiring the control plane's client certificate: it must chain to the pinned CA of
/// the setup bundle, allow clientAuth and carry the CN <see cref="AgentApi.ControlPlaneCommonName"/>.
/// </summary>
/// <remarks>
/// <para>
/// <c>GET /pull/v1/samples?ack={unixMs}&amp;max={n}</c> first removes the spooled samples with time ≤ ack (the
/// control plane has stored them), then answers the oldest up to max (default 500, at most 1000) as a
/// <see cref="MetricsBatch"/> with the spool's drop counter. Samples are removed only by a later ack, so an answer
/// lost on the way costs a repeat, never a sample. <c>GET /pull/v1/heartbeat</c> answers a <see cref="Heartbeat"/>
/// (same boot id and sequence as pushed heartbeats). Other paths are 404, other methods 405.
/// </para>
/// <para>
/// HTTP/1.1 with keep-alive (a pull is two requests; a connection idle for 30 s is closed), at most 8 connections
/// at once, the handshake and each request within 10 s. When the address cannot be bound the error is logged and
/// the agent runs on without the endpoint.
/// </para>
/// </remarks>
internal sealed class PullEndpoint(
    IPEndPoint listen,
    TelemetrySpool<SystemSample> spool,
    AgentInfo info,
    AgentRuntimeSettings settings,
    CaTrust trust,
    Func<X509Certificate2> certificate,
    TimeProvider time,
    ILogger<PullEndpoint> logger) : TcpEndpointService(listen, MaxConnections)
{
    private const int MaxConnections = 8;
    private const int MaxRequestBytes = 8 * 1024;
    private const int MaxRequestsPerConnection = 10_000;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan KeepAliveIdle = TimeSpan.FromSeconds(30);

    private readonly Lock _certificateLock = new();
    private (string Thumbprint, SslStreamCertificateContext Context)? _serverCertificate;
    protected override void OnListening(string address) => logger.PullEndpointListening(address);

    protected override void OnListenFailed(string address, string error) => logger.PullEndpointFailed(address, error);

    protected override void OnRequestFailed(string? remote, string error) => logger.PullRequestFailed(remote, error);

    protected override async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        string? remote = null;
        string? refusal = null;
        try
        {
            remote = client.RemoteEndPoint?.ToString();
            await using var ssl = new SslStream(new NetworkStream(client, ownsSocket: true), leaveInnerStreamOpen: false);
            var options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = ServerCertificate(),
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    refusal = CheckClient(presented);
                    return refusal is null;
                },
            };

            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                handshake.CancelAfter(RequestTimeout);
                await ssl.AuthenticateAsServerAsync(options, handshake.Token);
            }

            var buffer = new byte[MaxRequestBytes];
            var buffered = 0;
            for (var served = 0; served < MaxRequestsPerConnection; served++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(served == 0 ? RequestTimeout : KeepAliveIdle);
                var (head, consumed, length) = await ReadRequestHeadAsync(ssl, buffer, buffered, timeout.Token);
                if (head is null)
                {
                    return; // closed by the client, idle, or a request too large to read
                }

                buffered = length - consumed; // a pipelined next request, if any
                buffer.AsSpan(consumed, buffered).CopyTo(buffer);
                var (response, close) = Respond(head, remote);
                await ssl.WriteAsync(response, timeout.Token);
                await ssl.FlushAsync(timeout.Token);
                if (close || served + 1 == MaxRequestsPerConnection)
                {
                    return;
                }
            }
        }
        catch (AuthenticationException e)
        {
            logger.PullClientRefused(remote, refusal ?? e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Cryptography.CryptographicException)
        {
            // CryptographicException: the agent's own certificate could not be loaded (e.g. mid-renewal); the next connection retries.
            if (refusal is not null)
            {
                logger.PullClientRefused(remote, refusal);
            }
            else
            {
                logger.PullRequestFailed(remote, e.Message);
            }
        }
    }

    /// <summary>Null when the presented certificate is the control plane's client certificate, else why it is refused.</summary>
    private string? CheckClient(X509Certificate? presented)
    {
        if (presented is null)
        {
            return "no client certificate: only the control plane, with its client certificate, may pull";
        }

        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return CaChain.CheckControlPlaneClient(leaf, trust.Roots, time.GetUtcNow().UtcDateTime);
    }

    /// <summary>The agent's current certificate (renewals replace it) as a TLS server certificate.</summary>
    private SslStreamCertificateContext ServerCertificate()
    {
        var current = certificate();
        lock (_certificateLock)
        {
            if (_serverCertificate is { } cached && cached.Thumbprint == current.Thumbprint)
            {
                return cached.Context;
            }

            // A PKCS#12 round trip gives SslStream a key it owns, independent of the connection's copy.
            var copy = X509CertificateLoader.LoadPkcs12(current.Export(X509ContentType.Pkcs12), null);
            var context = SslStreamCertificateContext.Create(copy, additionalCertificates: null, offline: true);
            _serverCertificate = (current.Thumbprint, context);
            logger.PullCertificateLoaded(current.Thumbprint, current.NotAfter.ToUniversalTime());
            return context;
        }
    }

    /// <summary>
    /// Reads until the end of a request head (the buffer may already hold <paramref name="buffered"/> bytes). Returns the
    /// head, how many bytes of the buffer it used and how many the buffer holds; a null head when the client closed,
    /// went idle before sending anything, or sent a head larger than the buffer.
    /// </summary>
    private static async Task<(byte[]? Head, int Consumed, int Length)> ReadRequestHeadAsync(SslStream ssl, byte[] buffer, int buffered, CancellationToken cancellationToken)
    {
        var length = buffered;
        var searchFrom = 0;
        while (true)
        {
            var end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var consumed = searchFrom + end + 4;
                return (buffer[..consumed], consumed, length);
            }

            if (length == buffer.Length)
            {
                return (null, 0, 0);
            }

            searchFrom = Math.Max(0, length - 3);
            int read;
            try
            {
                read = await ssl.ReadAsync(buffer.AsMemory(length), cancellationToken);
            }
            catch (OperationCanceledException) when (length == 0)
            {
                return (null, 0, 0); // an idle keep-alive connection: close quietly
            }

            if (read == 0)
            {
                return (null, 0, 0);
            }

            length += read;
        }
    }

    /// <summary>The whole HTTP response to a request head, and whether to close the connection after it.</summary>
    internal (byte[] Response, bool Close) Respond(ReadOnlySpan<byte> head, string? remote)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd >= 0 ? head[..lineEnd] : head;
        var firstSpace = requestLine.IndexOf((byte)' ');
        var rest = firstSpace > 0 ? requestLine[(firstSpace + 1)..] : default;
        var secondSpace = rest.IndexOf((byte)' ');
        if (firstSpace <= 0 || secondSpace <= 0 || !rest[(secondSpace + 1)..].StartsWith("HTTP/1."u8))
        {
            return (Text(400, "Bad Request", "bad request\n", close: true), true);
        }

        var headers = Encoding.ASCII.GetString(lineEnd >= 0 ? head[(lineEnd + 2)..] : default);
        var close = rest[(secondSpace + 1)..].SequenceEqual("HTTP/1.0"u8) || HasHeader(headers, "connection", "close");
        if (HasBody(headers))
        {
            return (Text(400, "Bad Request", "requests carry no body\n", close: true), true);
        }

        var method = requestLine[..firstSpace];
        var target = Encoding.ASCII.GetString(rest[..secondSpace]);
        if (!method.SequenceEqual("GET"u8))
        {
            return (Text(405, "Method Not Allowed", "method not allowed\n", close, "Allow: GET\r\n"), close);
        }

        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question >= 0 ? target[..question] : target;
        var query = question >= 0 ? target[(question + 1)..] : string.Empty;
        try
        {
            return path switch
            {
                AgentApi.PullSamples => (Samples(query, remote, close), close),
                AgentApi.PullHeartbeat => (Json(JsonSerializer.SerializeToUtf8Bytes(info.NewHeartbeat(settings, info.NextSequence(), stopping: false), ContractsJson.Default.Heartbeat), close), close),
                _ => (Text(404, "Not Found", $"not found; pull at {AgentApi.PullSamples} and {AgentApi.PullHeartbeat}\n", close), close),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.PullRequestFailed(remote, e.Message);
            return (Text(500, "Internal Server Error", "the spool could not be read\n", close: true), true);
        }
    }

    private byte[] Samples(string query, string? remote, bool close)
    {
        long? ack = null;
        var max = AgentApi.PullDefaultMax;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = eq >= 0 ? pair[..eq] : pair;
            var value = eq >= 0 ? pair[(eq + 1)..] : string.Empty;
            switch (name)
            {
                case "ack" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var a):
                    ack = a;
                    break;
                case "ack":
                    return Text(400, "Bad Request", "ack must be a time in Unix milliseconds (0 or more)\n", close);
                case "max" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m > 0:
                    max = Math.Min(m, AgentApi.PullMaxCap);
                    break;
                case "max":
                    return Text(400, "Bad Request", $"max must be a number of samples, 1 or more (at most {AgentApi.PullMaxCap} are answered)\n", close);
            }
        }

        var removed = ack is { } through ? spool.RemoveThrough(through) : 0;
        var samples = spool.PeekOldest(max);
        var batch = new MetricsBatch(settings.ServerId, Guid.NewGuid(), [.. samples.Select(s => s.Item)], spool.DroppedTotal);
        logger.PullAnswered(remote, ack ?? -1, removed, samples.Count, spool.Count);
        return Json(JsonSerializer.SerializeToUtf8Bytes(batch, ContractsJson.Default.MetricsBatch), close);
    }

    private static bool HasHeader(string headers, string name, string token)
    {
        foreach (var line in headers.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase)
                && line[(colon + 1)..].Split(',').Any(v => v.Trim().Equals(token, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasBody(string headers)
    {
        foreach (var line in headers.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
                || (name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && value != "0"))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Json(byte[] body, bool close) => Response(200, "OK", "application/json", body, close);

    private static byte[] Text(int status, string reason, string body, bool close, string extraHeaders = "") =>
        Response(status, reason, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(body), close, extraHeaders);

    private static byte[] Response(int status, string reason, string contentType, byte[] body, bool close, string extraHeaders = "")
    {
        var connection = close ? "Connection: close\r\n" : $"Keep-Alive: timeout={(int)KeepAliveIdle.TotalSeconds}\r\n";
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\n{extraHeaders}{connection}\r\n");
        return [.. head, .. body];
    }
}
