using System.Net.Sockets;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ManagedServers.Api.Broker;

/// <summary>Outcome of a connection test. <see cref="Reason"/> is one of the <see cref="BrokerProbe"/> reason constants.</summary>
public sealed record BrokerProbeResult(bool Ok, string Reason, string Detail, string? ServerVersion = null);

/// <summary>
/// Connects to RabbitMQ once and says, in one sentence, why it failed: nothing listens (refused), no route
/// (unreachable), wrong credentials (authentication), unknown or forbidden virtual host (vhost), TLS handshake
/// (tls), no answer in time (timeout), anything else (error). Never throws, never shows the password.
/// </summary>
public static class BrokerProbe
{
    public const string ReasonOk = "ok";
    public const string Refused = "refused";
    public const string Unreachable = "unreachable";
    public const string Authentication = "authentication";
    public const string VirtualHost = "vhost";
    public const string TlsFailure = "tls";
    public const string Timeout = "timeout";
    public const string Error = "error";

    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(5);

    public static async Task<BrokerProbeResult> ProbeAsync(BrokerConnection connection, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout + TimeSpan.FromSeconds(1));
        try
        {
            var factory = connection.Factory(timeout, "managedservers-probe");
            await using var amqp = await factory.CreateConnectionAsync(cts.Token);

            // A refused virtual host arrives as connection.close after the handshake: only a channel shows it.
            await using (var channel = await amqp.CreateChannelAsync(cancellationToken: cts.Token))
            {
                await channel.CloseAsync(cts.Token);
            }

            var version = ServerProperty(amqp.ServerProperties, "version");
            var product = ServerProperty(amqp.ServerProperties, "product") ?? "RabbitMQ";
            await amqp.CloseAsync(cts.Token);
            return new BrokerProbeResult(true, ReasonOk, $"Connected to {product} {version ?? "(unknown version)"} at {connection.Address}, virtual host '{connection.VirtualHost}', as '{connection.User}'.", version);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return Classify(ex, connection, timeout);
        }
    }

    /// <summary>Names the cause of a failed connection from the exception chain.</summary>
    public static BrokerProbeResult Classify(Exception exception, BrokerConnection connection, TimeSpan? timeout = null)
    {
        var chain = Flatten(exception).ToList();
        var at = connection.Address;

        if (chain.Any(e => e is AuthenticationFailureException or PossibleAuthenticationFailureException)
            || chain.Any(e => ReplyCode(e) == 403 || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal)))
        {
            return Fail(Authentication, $"RabbitMQ at {at} refused the login of user '{connection.User}': wrong user name or password.");
        }

        if (chain.Any(e => ReplyCode(e) == 530 || e.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal)))
        {
            return Fail(VirtualHost, $"RabbitMQ at {at} did not let user '{connection.User}' into virtual host '{connection.VirtualHost}': it does not exist or the user has no permissions on it.");
        }

        if (chain.OfType<System.Security.Authentication.AuthenticationException>().FirstOrDefault() is { } tls)
        {
            return Fail(TlsFailure, $"The TLS handshake with {at} failed: {OneLine(tls.Message)}");
        }

        if (chain.OfType<SocketException>().FirstOrDefault() is { } socket)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => Fail(Refused, $"Nothing accepts connections at {at} (connection refused): is RabbitMQ running and the port right?"),
                SocketError.TimedOut => Fail(Timeout, $"No answer from {at} in time (connect timed out)."),
                _ => Fail(Unreachable, $"{at} cannot be reached: {OneLine(socket.Message)}"),
            };
        }

        if (chain.Any(e => e is TimeoutException or OperationCanceledException))
        {
            var seconds = (timeout ?? DefaultTimeout).TotalSeconds;
            return Fail(Timeout, $"No answer from RabbitMQ at {at} within {seconds:0} s.");
        }

        if (chain.Any(e => e is IOException or EndOfStreamException) && connection.Tls)
        {
            return Fail(TlsFailure, $"The TLS connection to {at} broke during the handshake: {OneLine(Innermost(exception).Message)}");
        }

        return Fail(Error, $"Could not connect to RabbitMQ at {at}: {OneLine(Innermost(exception).Message)}");
    }

    private static BrokerProbeResult Fail(string reason, string detail) => new(false, reason, detail);

    private static int? ReplyCode(Exception e) => e is OperationInterruptedException { ShutdownReason: { } reason } ? reason.ReplyCode : null;

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        var pending = new Stack<Exception>();
        pending.Push(exception);
        var seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            var e = pending.Pop();
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (e.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner)
        {
            e = inner;
        }

        return e;
    }

    private static string? ServerProperty(IDictionary<string, object?>? properties, string name) =>
        properties is not null && properties.TryGetValue(name, out var value)
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string s => s,
                _ => value?.ToString(),
            }
            : null;

    private static string OneLine(string message)
    {
        var line = message.ReplaceLineEndings(" ").Trim();
        return line.EndsWith('.') ? line : line + ".";
    }
}
