using System.Diagnostics;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// AMQP agents: a TCP connect and AMQP connection open to the broker with the agent's own credentials (re-read from
/// <c>amqp.json</c> at each run, as renewal rotates the password), then closed. HTTPS agents: pass, not used.
/// </summary>
internal sealed class BrokerCheck(StateDirectory state) : IDiagnosticCheck
{
    public string Name => "broker";

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var credentials = state.ReadAmqp();
        if (credentials is null)
        {
            return Check.Pass(Name, "not used (HTTPS transport)");
        }

        var factory = Transport.AmqpAgentService.Factory(credentials, TimeSpan.FromSeconds(4));
        var where = $"{credentials.Host}:{credentials.Port}";
        var watch = Stopwatch.StartNew();
        try
        {
            await using var connection = await factory.CreateConnectionAsync("managedservers-agent-diagnostics", cancellationToken);
            var elapsed = watch.Elapsed;
            await connection.CloseAsync(cancellationToken);
            return Check.Pass(Name, $"connected to {where} (vhost {credentials.VirtualHost}) as {credentials.User} in {Check.Ms(elapsed)}");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is BrokerUnreachableException or OperationInterruptedException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            var cause = Innermost(e);
            if (e is AuthenticationFailureException || cause is AuthenticationFailureException)
            {
                return Check.Fail(Name, $"{where} refused the agent's credentials (user {credentials.User})", "the broker password rotates at renewal: check the control plane's broker settings; re-enrol if it persists");
            }

            return Check.Fail(Name, $"cannot open an AMQP connection to {where}: {cause.Message}", $"check that the broker runs and that {where} is reachable from this host (firewall, TLS setting)");
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
