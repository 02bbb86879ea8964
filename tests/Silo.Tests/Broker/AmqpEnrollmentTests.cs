using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ManagedServers.Contracts.Security;
using ManagedServers.Silo.Tests.E2E;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>Enrolment of an AMQP server through a real silo: working broker credentials, and a broker outage burns no token.</summary>
public sealed class AmqpEnrollmentTests() : BrokerSiloTestBase("amqp-enrol")
{
    [Fact]
    public async Task Enrolling_an_amqp_server_returns_working_credentials()
    {
        var admin = Broker.Admin;
        await PutAsync(new RabbitMqSettingsUpdate(admin.Host, admin.Port, admin.VirtualHost, admin.User, admin.Password, admin.Tls, admin.ManagementUrl, "amqp"));

        // No explicit communication: the settings' default (amqp).
        var server = await Silo.CreateServerAsync("amqp-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal("amqp", server.Communication);
        Broker.Track(AmqpTopology.AgentUser(server.Id));
        var bundle = JsonSerializer.Deserialize<SetupBundle>(await File.ReadAllBytesAsync(await Silo.WriteBundleAsync(server.Id, Path.Combine(Dir, "bundle"))), ContractsJson.WireOptions)!;
        using var ca = X509Certificate2.CreateFromPem(bundle.CaCertificatePem);
        using var agentHttp = new HttpClient(CaChain.PinnedHandler(ca)) { BaseAddress = new Uri($"https://127.0.0.1:{Silo.AgentPort}/"), Timeout = TimeSpan.FromSeconds(60) };

        // Broker down: 503 "broker unavailable", and the token is not spent.
        await PutAsync(new RabbitMqSettingsUpdate(Port: Build.FreePort(), Password: admin.Password));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using (var refused = await EnrollAsync(agentHttp, bundle, key))
        {
            var text = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, text);
            Assert.Contains("broker unavailable: refused", text, StringComparison.Ordinal);
        }

        await PutAsync(new RabbitMqSettingsUpdate(Port: admin.Port, Password: admin.Password));
        using var enrolled = await EnrollAsync(agentHttp, bundle, key);
        var body = await enrolled.Content.ReadAsStringAsync();
        Assert.True(enrolled.StatusCode == HttpStatusCode.OK, body);
        var response = JsonSerializer.Deserialize<CertificateResponse>(body, ContractsJson.WireOptions)!;
        var credentials = response.Amqp;
        Assert.NotNull(credentials);
        Assert.Equal(AmqpTopology.AgentUser(server.Id), credentials.User);
        Assert.Equal(AmqpTopology.CommandQueue(server.Id), credentials.CommandQueue);
        Assert.Equal(AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(server.Id, 8), server.Id), credentials.RoutingKeyPrefix);
        Assert.Equal(admin.VirtualHost, credentials.VirtualHost);
        Assert.DoesNotContain(credentials.Password, Silo.Output, StringComparison.Ordinal);

        // The credentials work: the agent consumes a command from its own queue.
        await using (var agent = await Broker.ConnectAsync(credentials))
        await using (var channel = await agent.CreateChannelAsync())
        await using (var control = await Broker.ConnectAsync(admin))
        await using (var controlChannel = await control.CreateChannelAsync())
        {
            var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, e) =>
            {
                received.TrySetResult(System.Text.Encoding.UTF8.GetString(e.Body.Span));
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(credentials.CommandQueue, autoAck: true, consumer);
            await controlChannel.BasicPublishAsync(AmqpTopology.CommandExchange, server.Id, TestBroker.Body("hello agent"));
            Assert.Equal("hello agent", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        // Renewal rotates the broker password: the old one stops working, the new one works.
        using (var certificate = CaChain.WithKey(response.CertificatePem, key.ExportPkcs8PrivateKeyPem()))
        using (var mtls = new HttpClient(CaChain.PinnedHandler(ca, certificate)) { BaseAddress = agentHttp.BaseAddress, Timeout = TimeSpan.FromSeconds(60) })
        using (var renewed = await mtls.PostAsJsonAsync(AgentApi.Renew, new RenewRequest(Csr(bundle.ServerId, key)), ContractsJson.WireOptions))
        {
            var renewedBody = await renewed.Content.ReadAsStringAsync();
            Assert.True(renewed.StatusCode == HttpStatusCode.OK, renewedBody);
            var rotated = JsonSerializer.Deserialize<CertificateResponse>(renewedBody, ContractsJson.WireOptions)!.Amqp;
            Assert.NotNull(rotated);
            Assert.NotEqual(credentials.Password, rotated.Password);
            var old = new Api.Broker.BrokerConnection(credentials.Host, credentials.Port, credentials.VirtualHost, credentials.User, credentials.Password, credentials.Tls, admin.ManagementUrl);
            Assert.Equal("authentication", (await Api.Broker.BrokerProbe.ProbeAsync(old, Api.Broker.BrokerProbe.DefaultTimeout)).Reason);
            Assert.True((await Api.Broker.BrokerProbe.ProbeAsync(old with { Password = rotated.Password }, Api.Broker.BrokerProbe.DefaultTimeout)).Ok);
        }

        // The token is spent now.
        using (var again = await EnrollAsync(agentHttp, bundle, key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        }

        // Deleting the server removes its broker user.
        Assert.True(await Broker.Management.UserExistsAsync(credentials.User, CancellationToken.None));
        using (var deleted = await Silo.Http.DeleteAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.False(await Broker.Management.UserExistsAsync(credentials.User, CancellationToken.None));
    }

    private async Task PutAsync(RabbitMqSettingsUpdate update)
    {
        using var response = await Silo.Http.PutAsJsonAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq", update, ContractsJson.WireOptions);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> EnrollAsync(HttpClient agentHttp, SetupBundle bundle, ECDsa key) =>
        agentHttp.PostAsJsonAsync(AgentApi.Enroll, new EnrollRequest(bundle.ServerId, bundle.EnrollmentToken, Csr(bundle.ServerId, key), "test", "probe", "Debian"), ContractsJson.WireOptions);

    private static string Csr(string serverId, ECDsa key)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(serverId);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ClientAuthOid, "Client Authentication")], critical: false));
        return request.CreateSigningRequestPem();
    }
}
