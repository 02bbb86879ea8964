using System.Net.Sockets;
using ManagedServers.Api.Broker;
using ManagedServers.Silo.Tests.E2E;
using RabbitMQ.Client.Exceptions;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>The connection test names the cause of a failure, against a real broker (own vhost) and from exception chains.</summary>
public sealed class BrokerProbeTests : IAsyncLifetime
{
    private TestBroker _broker = null!;

    private BrokerConnection Good => _broker.Admin;

    public async Task InitializeAsync() => _broker = await TestBroker.CreateAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Good_settings_connect_and_report_the_server_version()
    {
        var result = await BrokerProbe.ProbeAsync(Good, BrokerProbe.DefaultTimeout);
        Assert.True(result.Ok, result.Detail);
        Assert.Equal(BrokerProbe.ReasonOk, result.Reason);
        Assert.False(string.IsNullOrEmpty(result.ServerVersion));
        Assert.Contains(result.ServerVersion!, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_authentication()
    {
        var password = "wrong-" + Guid.NewGuid().ToString("N");
        var result = await BrokerProbe.ProbeAsync(Good with { Password = password }, BrokerProbe.DefaultTimeout);
        Assert.False(result.Ok);
        Assert.Equal(BrokerProbe.Authentication, result.Reason);
        Assert.DoesNotContain(password, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_vhost_is_vhost()
    {
        var result = await BrokerProbe.ProbeAsync(Good with { VirtualHost = "no-such-vhost-" + Guid.NewGuid().ToString("N") }, BrokerProbe.DefaultTimeout);
        Assert.False(result.Ok, result.Detail);
        Assert.Equal(BrokerProbe.VirtualHost, result.Reason);
    }

    [Fact]
    public async Task Closed_port_is_refused()
    {
        var result = await BrokerProbe.ProbeAsync(Good with { Host = "127.0.0.1", Port = Build.FreePort() }, BrokerProbe.DefaultTimeout);
        Assert.False(result.Ok);
        Assert.Equal(BrokerProbe.Refused, result.Reason);
    }

    [Fact]
    public async Task A_port_that_never_answers_is_timeout()
    {
        using var silent = new TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var accepting = Task.Run(async () =>
        {
            using var client = await silent.AcceptTcpClientAsync();
            await Task.Delay(TimeSpan.FromSeconds(10));
        });

        var started = DateTime.UtcNow;
        var result = await BrokerProbe.ProbeAsync(Good with { Host = "127.0.0.1", Port = port }, TimeSpan.FromSeconds(1));
        Assert.False(result.Ok);
        Assert.Equal(BrokerProbe.Timeout, result.Reason);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "the probe did not respect its timeout");
    }

    [Fact]
    public async Task Tls_to_a_plain_port_is_tls()
    {
        var result = await BrokerProbe.ProbeAsync(Good with { Tls = true }, BrokerProbe.DefaultTimeout);
        Assert.False(result.Ok);
        Assert.Equal(BrokerProbe.TlsFailure, result.Reason);
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("unreachable")]
    [InlineData("tls")]
    [InlineData("timeout")]
    [InlineData("authentication")]
    [InlineData("error")]
    public void Classifies_exception_chains(string expected)
    {
        var connection = TestBroker.AdminOnDefaultVhost() with { Password = "s3cret-probe-password" };
        Exception inner = expected switch
        {
            "refused" => new SocketException((int)SocketError.ConnectionRefused),
            "unreachable" => new SocketException((int)SocketError.HostNotFound),
            "tls" => new System.Security.Authentication.AuthenticationException("remote certificate is invalid"),
            "timeout" => new TimeoutException(),
            "authentication" => new AuthenticationFailureException("ACCESS_REFUSED - Login was refused"),
            _ => new InvalidOperationException("something odd"),
        };
        var wrapped = new BrokerUnreachableException(new AggregateException(new ConnectFailureException("connect failed", inner)));
        var result = BrokerProbe.Classify(wrapped, connection);
        Assert.False(result.Ok);
        Assert.Equal(expected, result.Reason);
        Assert.DoesNotContain(connection.Password, result.Detail, StringComparison.Ordinal);
    }
}
