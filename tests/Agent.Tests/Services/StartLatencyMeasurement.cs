using System.Diagnostics;
using System.Globalization;
using ManagedServers.Contracts.Agent;
using Xunit.Abstractions;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>
/// Not a check: measures install → answering (5 fresh installs each, median and max) per runtime for dns and dhcp4.
/// Run with <c>--filter Category=Measure</c>; results go to the test output and /tmp/ms-service-start-latency.txt.
/// </summary>
public sealed class StartLatencyMeasurement(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Measure")]
    public async Task Install_to_answering_latency()
    {
        var lines = new List<string>();
        foreach (var runtime in new[] { RuntimeNames.Exec, RuntimeNames.Docker })
        {
            foreach (var kind in new[] { ServiceKinds.Dns, ServiceKinds.Dhcp4 })
            {
                var samples = new List<double>();
                await using var host = new ServiceTestHost();
                for (var i = 0; i < 5; i++)
                {
                    var args = kind == ServiceKinds.Dns
                        ? new ServiceInstallArgs(kind, runtime, null, "127.0.0.1", ServiceTestHost.FreePort())
                        : new ServiceInstallArgs(kind, runtime);
                    var started = Stopwatch.GetTimestamp();
                    var installed = await host.Manager.InstallAsync(args, CancellationToken.None);
                    samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Assert.Equal(ServiceStates.Running, installed.Service!.State);
                    await host.Manager.RemoveAsync(kind, CancellationToken.None);
                }

                samples.Sort();
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{runtime,-6} {kind,-5} install→answering ms: median {samples[2]:0}, max {samples[4]:0} (all: {string.Join(", ", samples.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))})"));
            }
        }

        foreach (var line in lines)
        {
            output.WriteLine(line);
        }

        File.WriteAllLines("/tmp/ms-service-start-latency.txt", lines);
    }
}
