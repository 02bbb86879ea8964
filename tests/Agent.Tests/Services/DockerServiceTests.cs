using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Services;

/// <summary>
/// The docker runtime against the local engine and the real knot/kea images (managedservers/knot, managedservers/kea).
/// One class: its tests run one after another (the rollback test adds a bogus newer knot image for a while).
/// </summary>
public sealed class DockerServiceTests
{
    [Fact]
    public async Task Dns_lifecycle_through_docker()
    {
        await using var host = new ServiceTestHost();
        await ServiceLifecycle.RunDnsAsync(
            host,
            RuntimeNames.Docker,
            crash: async () => Assert.Equal(0, (await ServiceTestHost.RunAsync("docker", "kill", "--signal", "KILL", $"ms-{host.ServerId}-dns")).ExitCode),
            isGone: async () => (await ServiceTestHost.RunAsync("docker", "inspect", $"ms-{host.ServerId}-dns")).ExitCode != 0);
    }

    [Fact]
    public async Task Container_has_the_labels_host_network_bind_mount_and_no_restart_policy()
    {
        await using var host = new ServiceTestHost();
        var installed = await host.InstallDnsAsync(RuntimeNames.Docker, ServiceTestHost.FreePort());
        var name = $"ms-{host.ServerId}-dns";
        var (code, output) = await ServiceTestHost.RunAsync(
            "docker", "inspect", "--format",
            "{{index .Config.Labels \"io.managedservers.managed\"}}|{{index .Config.Labels \"io.managedservers.server\"}}|{{index .Config.Labels \"io.managedservers.service\"}}|{{index .Config.Labels \"io.managedservers.version\"}}|{{.HostConfig.NetworkMode}}|{{.HostConfig.RestartPolicy.Name}}|{{.Config.User}}|{{range .HostConfig.Binds}}{{.}}{{end}}",
            name);
        Assert.Equal(0, code);
        var dir = host.ServiceDirectory(ServiceKinds.Dns);
        Assert.Equal($"true|{host.ServerId}|dns|{installed.Service!.Version}|host|no|0:0|{dir}:{dir}", output.Trim());

        // Another runtime for the same agent is refused.
        var mismatch = await Assert.ThrowsAsync<ServiceCommandException>(() => host.Manager.InstallAsync(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec), CancellationToken.None));
        Assert.Contains("runs its services with the docker runtime", mismatch.Message, StringComparison.Ordinal);

        // A new manager on the same state (agent restart) adopts the running container as it is.
        var (_, before) = await ServiceTestHost.RunAsync("docker", "inspect", "--format", "{{.State.StartedAt}}", name);
        await using var restarted = host.NewManager();
        await restarted.ReconcileAsync(CancellationToken.None);
        Assert.Equal(ServiceStates.Running, restarted.Status(ServiceKinds.Dns)!.State);
        var (_, after) = await ServiceTestHost.RunAsync("docker", "inspect", "--format", "{{.State.StartedAt}}", name);
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData(ServiceKinds.Dhcp4)]
    [InlineData(ServiceKinds.Dhcp6)]
    public async Task Kea_answers_status_get_through_docker(string kind)
    {
        await using var host = new ServiceTestHost();
        await ServiceLifecycle.RunKeaAsync(host, RuntimeNames.Docker, kind);
    }

    [Fact]
    public async Task Update_to_a_missing_version_fails_clearly_and_keeps_the_old_one_running()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        var old = (await host.InstallDnsAsync(RuntimeNames.Docker, port)).Service!.Version!;

        var error = await Assert.ThrowsAsync<ServiceCommandException>(() => host.InstallDnsAsync(RuntimeNames.Docker, port, "0.0.1-ms9"));

        Assert.Contains("0.0.1-ms9 is not on this host; versions available:", error.Message, StringComparison.Ordinal);
        Assert.Contains(old, error.Message, StringComparison.Ordinal);
        Assert.Equal(old, host.Status(ServiceKinds.Dns)!.Version);
        Assert.Equal(ServiceStates.Running, host.Status(ServiceKinds.Dns)!.State);
        Assert.True(await ServiceTestHost.DnsAnswersAsync(port));
    }

    [Fact]
    public async Task Update_to_a_version_that_does_not_come_up_rolls_back()
    {
        await using var host = new ServiceTestHost();
        var port = ServiceTestHost.FreePort();
        var old = (await host.InstallDnsAsync(RuntimeNames.Docker, port)).Service!.Version!;
        const string Bogus = "managedservers/knot:9.9.9-ms1";
        using var build = new TempDir();

        // Same image, but the daemon exits at once (the configuration checker still works).
        File.WriteAllText(build.Combine("Dockerfile"), $$"""
            FROM managedservers/knot:{{old}}
            ENTRYPOINT ["/bin/sh", "-c", "case \"$0\" in knotc) exec \"$0\" \"$@\";; *) echo bogus daemon exits; exit 3;; esac"]
            """);
        var built = await ServiceTestHost.RunAsync("docker", "build", "-q", "-t", Bogus, build.Path);
        Assert.True(built.ExitCode == 0, built.Output);
        try
        {
            var error = await Assert.ThrowsAsync<ServiceCommandException>(() => host.InstallDnsAsync(RuntimeNames.Docker, port, "9.9.9-ms1"));

            Assert.Contains($"rolled back to {old}", error.Message, StringComparison.Ordinal);
            Assert.Contains("exited with code 3", error.Message, StringComparison.Ordinal);
            Assert.Contains(error.Steps, s => s == $"rolled back to {old}");
            var status = host.Status(ServiceKinds.Dns)!;
            Assert.Equal(old, status.Version);
            Assert.Equal(ServiceStates.Running, status.State);
            Assert.True(await ServiceTestHost.DnsAnswersAsync(port));
            Assert.Equal(old, new ServicesFile(Path.Combine(host.StateDirectory, "services.json")).Read().Services.Single().Version);

            // A fresh install that does not come up leaves nothing behind: no container, no directory, no service.
            await using var fresh = new ServiceTestHost();
            var failed = await Assert.ThrowsAsync<ServiceCommandException>(() => fresh.InstallDnsAsync(RuntimeNames.Docker, ServiceTestHost.FreePort(), "9.9.9-ms1"));
            Assert.Contains("stopped right after starting", failed.Message, StringComparison.Ordinal);
            Assert.Null(fresh.Status(ServiceKinds.Dns));
            Assert.NotEqual(0, (await ServiceTestHost.RunAsync("docker", "inspect", $"ms-{fresh.ServerId}-dns")).ExitCode);
            Assert.False(Directory.Exists(fresh.ServiceDirectory(ServiceKinds.Dns)));
            Assert.Null(fresh.Manager.RuntimeName);
        }
        finally
        {
            await ServiceTestHost.RunAsync("docker", "rmi", "-f", Bogus);
        }
    }

    [Fact]
    public async Task Versions_come_from_image_tags_newest_first()
    {
        await using var runtime = new DockerRuntime("unused", null, NullLogger.Instance);
        var versions = await runtime.AvailableVersionsAsync(ServiceKinds.Dns, CancellationToken.None);
        Assert.NotEmpty(versions);
        Assert.Equal(versions[0], await runtime.ResolveVersionAsync(ServiceKinds.Dns, null, CancellationToken.None));
        Assert.True((await runtime.CheckAsync(CancellationToken.None)).Healthy);
        Assert.True(DockerRuntime.ParseTag("3.10.0-ms1").CompareTo(DockerRuntime.ParseTag("3.9.9-ms7")) > 0);
        Assert.True(DockerRuntime.ParseTag("3.2.6-ms2").CompareTo(DockerRuntime.ParseTag("3.2.6-ms1")) > 0);
    }
}
