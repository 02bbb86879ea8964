using System.Net;
using System.Text.Json;
using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.Running;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
        var bundlePath = temp.Combine("bundle.json");
        await File.WriteAllTextAsync(bundlePath, JsonSerializer.Serialize(plane.Bundle(), ContractsJson.Default.SetupBundle));
        var stderr = new StringWriter();
        Assert.True(await EnrollCommand.RunAsync(bundlePath, stateDir, new StringWriter(), stderr, TimeProvider.System, CancellationToken.None) == 0, stderr.ToString());

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
}
