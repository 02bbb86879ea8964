using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests.Collectors;

/// <summary>The run host registers the collectors and the sample holder, and the endpoint only with --metrics-listen.</summary>
[Collection(nameof(TransportTests))]
public sealed class MetricsHostTests
{
    [Fact]
    public async Task Endpoint_is_hosted_only_when_asked_for_and_serves_the_latest_sample()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);

        using (var plain = AgentHost.Build(new AgentRunOptions { StateDir = stateDir }))
        {
            Assert.NotNull(plain.Services.GetService<SystemCollectors>());
            Assert.NotNull(plain.Services.GetService<LatestSample>());
            Assert.Null(plain.Services.GetService<PrometheusEndpoint>());
            Assert.DoesNotContain(plain.Services.GetServices<IHostedService>(), s => s is PrometheusEndpoint);
        }

        using var host = AgentHost.Build(new AgentRunOptions { StateDir = stateDir, MetricsListen = new IPEndPoint(IPAddress.Loopback, 0) });
        var endpoint = host.Services.GetRequiredService<PrometheusEndpoint>();
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => ReferenceEquals(s, endpoint));
        await host.StartAsync();
        try
        {
            var sample = host.Services.GetRequiredService<SystemCollectors>().Collect();
            host.Services.GetRequiredService<LatestSample>().Set(sample);
            using var http = new HttpClient();
            var body = await http.GetStringAsync($"http://{endpoint.LocalEndpoint}/metrics");

            Assert.Contains($"managedservers_agent_uptime_seconds ", body, StringComparison.Ordinal);
            Assert.Contains("managedservers_agent_net_tcp{state=\"listen\"} ", body, StringComparison.Ordinal);
            Assert.Contains("managedservers_agent_disk_total_bytes{mount=\"/\"} ", body, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Pull_mode_hosts_the_pull_endpoint_and_pushes_no_samples()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);

        var logs = new CapturingLoggerProvider();
        using var host = AgentHost.Build(
            new AgentRunOptions { StateDir = stateDir, PullListen = new IPEndPoint(IPAddress.Loopback, 0), MinimumLogLevel = Microsoft.Extensions.Logging.LogLevel.Debug },
            b => b.Logging.AddProvider(logs));
        var endpoint = host.Services.GetRequiredService<PullEndpoint>();
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => ReferenceEquals(s, endpoint));
        await host.StartAsync();
        try
        {
            // The first sample is taken at start; it stays spooled (nothing pushes it) until a pull acks it.
            var spool = host.Services.GetRequiredService<TelemetrySpool<SystemSample>>();
            await Eventually.TrueAsync(() => spool.Count > 0, "a spooled sample");
            using var control = ca.IssueLeaf(AgentApi.ControlPlaneCommonName, ManagedServers.Contracts.Security.CaChain.ClientAuthOid);
            using var handler = new SocketsHttpHandler();
            handler.SslOptions.ClientCertificates = [control];
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
                ManagedServers.Contracts.Security.CaChain.CheckAgentServer(X509CertificateLoader.LoadCertificate(presented!.GetRawCertData()), ca.Certificate, FakeControlPlane.ServerId) is null;
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://{endpoint.LocalEndpoint}") };
            var batch = JsonSerializer.Deserialize(await http.GetStringAsync(AgentApi.PullSamples), ContractsJson.Default.MetricsBatch)!;
            Assert.Equal(FakeControlPlane.ServerId, batch.ServerId);
            Assert.NotEmpty(batch.Samples);
            var newest = batch.Samples[^1].Time.ToUnixTimeMilliseconds();
            await http.GetStringAsync($"{AgentApi.PullSamples}?ack={newest}");
            Assert.DoesNotContain(spool.PeekOldest(100), s => s.Item.Time.ToUnixTimeMilliseconds() <= newest);

            // Pulled and pushed heartbeats share one sequence.
            await Eventually.TrueAsync(() => !plane.Heartbeats.IsEmpty, "a pushed heartbeat");
            var pulled = JsonSerializer.Deserialize(await http.GetStringAsync(AgentApi.PullHeartbeat), ContractsJson.Default.Heartbeat)!;
            Assert.DoesNotContain(plane.Heartbeats, h => h.Heartbeat.Sequence == pulled.Sequence);
            Assert.Equal(plane.Heartbeats.First().Heartbeat.BootId, pulled.BootId);

            Assert.DoesNotContain(logs.Lines, l => l.Contains("Sending", StringComparison.Ordinal) || l.Contains("refused", StringComparison.Ordinal));
            Assert.Contains(logs.Lines, l => l.Contains("this agent does not push samples", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
