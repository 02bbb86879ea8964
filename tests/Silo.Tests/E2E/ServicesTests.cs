using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DnsClient;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// A DNS service run for real by a real agent process, through the control plane's API: the Docker runtime (the local
/// engine and the locally built Knot image) and the exec runtime (host-installed knotd). Install → it answers on a
/// loopback port; stop/start/restart as jobs; SIGKILL the service → the agent reports it failed, restarts it, and the
/// restart count rises; diagnostics see it answering; a debug bundle comes back as a tar.gz; remove takes it away.
/// </summary>
public sealed class ServicesTests() : SiloTestBase("svc")
{
    [Fact]
    public Task A_dns_service_through_the_docker_runtime() => LifecycleAsync("docker");

    [Fact]
    public Task A_dns_service_through_the_exec_runtime() => LifecycleAsync("exec");

    /// <summary>
    /// Kea through the API on the exec runtime: dhcp4 and dhcp6 answer status-get (diagnostics), a crashed kea-dhcp4 is
    /// restarted, and a job sent while the agent is down waits for it and runs when it is back.
    /// </summary>
    [Fact]
    public async Task Dhcp_services_and_a_job_that_waits_for_its_agent()
    {
        var server = await Silo.CreateServerAsync("svc-dhcp", "dhcp", "exec");
        var stateDir = await EnrolAsync(server.Id, "agent-dhcp");
        var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            foreach (var kind in new[] { "dhcp4", "dhcp6" })
            {
                var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest(kind)), agent);
                Assert.True(install.State == "succeeded", $"{kind}: {install.Error}\n{string.Join('\n', install.Steps.Select(s => s.Message))}");
            }

            var services = await WaitAsync(() => ServicesAsync(server.Id), s => s.Length == 2 && s.All(x => x.State == "running"), "dhcp4 and dhcp6 running", agent);
            Assert.Equal(["dhcp4", "dhcp6"], services.Select(s => s.Kind));
            var versions = (await Silo.GetServerAsync(server.Id))!.Versions;
            Assert.NotNull(versions.Dhcp4);
            Assert.NotNull(versions.Dhcp6);

            var diagnostics = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/diagnostics"), agent);
            var report = diagnostics.Result!.Value.Deserialize(ContractsJson.Default.DiagnosticsReport)!;
            foreach (var kind in new[] { "dhcp4", "dhcp6" })
            {
                var check = Assert.Single(report.Checks, c => c.Name == "service " + kind);
                Assert.True(check.Status == "pass", $"{check.Name}: {check.Message}");
                Assert.Contains("status-get", check.Message, StringComparison.Ordinal);
            }

            // A crashed kea-dhcp4 is restarted, counted; dhcp6 is untouched.
            Process.GetProcessById(ProcessOf("kea-dhcp4", stateDir)).Kill();
            var restarted = await WaitAsync(() => ServicesAsync(server.Id), s => s.Single(x => x.Kind == "dhcp4") is { RestartCount: 1, State: "running" }, "dhcp4 restarted", agent);
            Assert.Equal(0, restarted.Single(x => x.Kind == "dhcp6").RestartCount);

            // The agent goes away; a job for it waits, then runs when the agent is back.
            agent.Terminate();
            Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)), agent.Output);
            agent.Dispose();
            await WaitAsync(() => Silo.GetServerAsync(server.Id), s => s!.State == "stopped", "agent stopped", agent);
            var waiting = await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services/dhcp6/restart");
            Assert.Contains(waiting.Steps, s => s.Message.Contains("the job waits until", StringComparison.Ordinal));

            // (The stopped agent's last long poll may still be open in the grain and take the job; the API sees that
            // the agent hung up and puts it back.)
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal("queued", (await Silo.Http.GetFromJsonAsync<JobView>($"{Silo.BaseUrl}/api/v1/jobs/{waiting.JobId}", ContractsJson.WireOptions))!.State);

            var back = DateTimeOffset.UtcNow;
            agent = AgentProcess.RunVerbose(stateDir);
            var done = await FinishAsync(waiting, agent);
            Assert.True(done.State == "succeeded", done.Error);
            Assert.True(done.FinishedAt > back, "the job ran before its agent came back");
            Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(agent.Output, @"Command cmd_\w+ \(service\.restart\) succeeded"));
        }
        finally
        {
            agent.Dispose();
            KillDaemons("kea-dhcp4", stateDir);
            KillDaemons("kea-dhcp6", stateDir);
        }
    }

    [Fact]
    public Task An_exec_dns_service_outlives_its_agent_and_is_adopted() => OutlivesAgentAsync("exec");

    [Fact]
    public Task A_docker_dns_service_outlives_its_agent_and_is_adopted() => OutlivesAgentAsync("docker");

    /// <summary>
    /// SIGTERM the agent: the DNS service goes on answering; a new agent adopts that very process or container (same pid,
    /// no restart) and still supervises it: killed, it is restarted and counted.
    /// </summary>
    private async Task OutlivesAgentAsync(string runtime)
    {
        var server = await Silo.CreateServerAsync($"outlive-{runtime}", "dns", runtime);
        var stateDir = await EnrolAsync(server.Id, "agent-outlive-" + runtime);
        var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var port = await InstallDnsAsync(server.Id, agent);
            var pid = ServicePid(runtime, server.Id, stateDir);

            // The agent stops gracefully: the service stays, answering.
            agent.Terminate();
            Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)), agent.Output);
            Assert.True(agent.ExitCode == 0, agent.Output);
            for (var i = 0; i < 6; i++)
            {
                Assert.True(await AnswersAsync(port), $"the DNS service stopped answering {i * 0.5:0.0} s after its agent stopped\n{agent.Output}");
                await Task.Delay(500);
            }

            Assert.Equal(pid, ServicePid(runtime, server.Id, stateDir));
            agent.Dispose();

            // A new agent adopts it: same process, not restarted.
            agent = AgentProcess.RunVerbose(stateDir);
            await WaitAsync(() => Silo.GetServerAsync(server.Id), s => s!.State == "running" && (s.Services ?? []).Any(x => x.Kind == "dns" && x.State == "running"), "the new agent reports dns running", agent);
            await WaitAsync(() => Task.FromResult(agent.Output), o => o.Contains("adopted", StringComparison.Ordinal), "the new agent adopted the service", agent);
            Assert.Equal(pid, ServicePid(runtime, server.Id, stateDir));
            Assert.Equal(0, Assert.Single(await ServicesAsync(server.Id)).RestartCount);
            Assert.True(await AnswersAsync(port), "no answer after the new agent adopted the service");

            // Still supervised: killed, it is restarted by the new agent and counted.
            KillService(runtime, server.Id, stateDir);
            var restarted = await WaitForServiceAsync(server.Id, s => s.RestartCount == 1 && s.State == "running", "restarted by the new agent", agent);
            Assert.Equal(1, restarted.RestartCount);
            Assert.True(await AnswersEventuallyAsync(port), "no answer after the restart");
            Assert.NotEqual(pid, ServicePid(runtime, server.Id, stateDir));
        }
        finally
        {
            agent.Dispose();
            CleanUp(server.Id);
            KillDaemons("knotd", stateDir);
        }
    }

    /// <summary>The service's process: the exec runtime's knotd, or the container's main process.</summary>
    private static int ServicePid(string runtime, string serverId, string stateDir) =>
        runtime == "docker"
            ? int.Parse(Docker("inspect", "-f", "{{.State.Pid}}", $"ms-{serverId}-dns").Trim(), System.Globalization.CultureInfo.InvariantCulture)
            : ProcessOf("knotd", stateDir);

    private async Task LifecycleAsync(string runtime)
    {
        var server = await Silo.CreateServerAsync($"svc-{runtime}", "dns", runtime);
        var stateDir = await EnrolAsync(server.Id, "agent-" + runtime);
        using var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var port = Build.FreePort();

            // Install: a job that ends with the service answering on 127.0.0.1:port.
            var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", ListenAddress: "127.0.0.1", Port: port)), agent);
            Assert.True(install.State == "succeeded", $"install failed: {install.Error}\n{string.Join('\n', install.Steps.Select(s => s.Message))}\n{agent.Output}");
            Assert.Contains(install.Steps, s => s.Message.StartsWith("agent: ", StringComparison.Ordinal));
            Assert.True(await AnswersAsync(port), "the DNS service does not answer after install");
            var service = await WaitForServiceAsync(server.Id, s => s.State == "running", "service running in heartbeats", agent);
            Assert.Equal(runtime, service.Runtime);
            Assert.False(string.IsNullOrEmpty(service.Version));
            Assert.Equal(0, service.RestartCount);
            Assert.Equal(service.Version, (await WaitAsync(() => Silo.GetServerAsync(server.Id), s => s!.Versions.Dns is not null, "dns version on the server", agent))!.Versions.Dns);

            // An update to a version the host does not have fails clearly and leaves the running version alone.
            var badUpdate = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", "0.0.1-ms9", "127.0.0.1", port)), agent);
            Assert.Equal(("update_service", "failed"), (badUpdate.Kind, badUpdate.State));
            Assert.Contains("0.0.1-ms9", badUpdate.Error, StringComparison.Ordinal);
            Assert.True(await AnswersAsync(port), "a failed update stopped the running service");
            Assert.Equal(service.Version, Assert.Single(await ServicesAsync(server.Id)).Version);

            // Stop, start, restart: jobs; stopped means no answer.
            Assert.Equal("succeeded", (await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services/dns/stop"), agent)).State);
            await WaitForServiceAsync(server.Id, s => s.State == "stopped", "service stopped", agent);
            Assert.False(await AnswersAsync(port), "a stopped DNS service still answers");
            Assert.Equal("succeeded", (await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services/dns/start"), agent)).State);
            Assert.True(await AnswersEventuallyAsync(port), "the DNS service does not answer after start");

            // Restart through msctl (a job followed to its end: step lines when not on a terminal), then the table and JSON.
            var (code, output) = await Msctl.RunAsync(Silo, Dir, true, "services", "restart", server.Name, "dns");
            Assert.True(code == 0, output);
            Assert.Contains("succeeded", output, StringComparison.Ordinal);
            Assert.Contains("Done: dns is running", output, StringComparison.Ordinal);
            Assert.True(await AnswersEventuallyAsync(port), "the DNS service does not answer after restart");
            (code, output) = await Msctl.RunAsync(Silo, Dir, true, "services", "list", server.Name, "-o", "json");
            Assert.True(code == 0, output);
            Assert.Equal("dns", JsonDocument.Parse(output).RootElement[0].GetProperty("kind").GetString());
            Assert.Equal(0, (await WaitForServiceAsync(server.Id, s => s.State == "running", "running after restart", agent)).RestartCount);

            // SIGKILL the service behind the agent's back: reported failed (or already restarted), restarted, count 1.
            KillService(runtime, server.Id, stateDir);
            var restarted = await WaitForServiceAsync(server.Id, s => s.RestartCount >= 1 && s.State == "running", "restarted after SIGKILL", agent);
            Assert.Equal(1, restarted.RestartCount);
            Assert.Matches(@"Service dns .*(failed|exited|killed)", agent.Output);
            Assert.True(await AnswersEventuallyAsync(port), "the DNS service does not answer after the agent restarted it");

            // Diagnostics through msctl: a table of checks; exit 0 unless one fails.
            (code, output) = await Msctl.RunAsync(Silo, Dir, true, "servers", "diagnose", server.Name);
            Assert.Contains("service dns", output, StringComparison.Ordinal);
            Assert.Contains("PASS", output, StringComparison.Ordinal);

            // Diagnostics: the service is running and answering.
            var diagnostics = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/diagnostics"), agent);
            Assert.Equal("succeeded", diagnostics.State);
            var report = diagnostics.Result!.Value.Deserialize(ContractsJson.Default.DiagnosticsReport)!;
            var dnsCheck = Assert.Single(report.Checks, c => c.Name.Contains("dns", StringComparison.Ordinal));
            Assert.True(dnsCheck.Status == "warn" && dnsCheck.Message.Contains($"answering on 127.0.0.1:{port}", StringComparison.Ordinal), $"{dnsCheck.Message} {dnsCheck.Hint}");
            Assert.Contains("no zones pushed yet", dnsCheck.Message, StringComparison.Ordinal);
            Assert.Equal($"push the zones assigned to it: msctl servers push-zones {server.Id} (assign them with msctl servers zones {server.Id})", dnsCheck.Hint);
            if (runtime == "docker")
            {
                Assert.Equal("pass", Assert.Single(report.Checks, c => c.Name.Contains("docker", StringComparison.OrdinalIgnoreCase)).Status);
            }

            // Debug bundle: a tar.gz with the manifest, versions, the service's config and log, the last diagnostics; no key.
            using (var bundle = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/debug-bundle"))
            {
                Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
                Assert.Equal("application/gzip", bundle.Content.Headers.ContentType?.MediaType);
                var names = ReadTarNames(await bundle.Content.ReadAsByteArrayAsync());
                Assert.Contains("MANIFEST.txt", names);
                Assert.Contains(names, n => n.Contains("diagnostics", StringComparison.Ordinal));
                Assert.Contains(names, n => n.Contains("dns", StringComparison.Ordinal) && n.Contains("conf", StringComparison.Ordinal));
                Assert.DoesNotContain(names, n => n.EndsWith("key.pem", StringComparison.Ordinal));
            }

            // Remove: the service goes; it no longer answers.
            Assert.Equal("succeeded", (await FinishAsync(await StartJobAsync(HttpMethod.Delete, $"/api/v1/servers/{server.Id}/services/dns"), agent)).State);
            await WaitAsync(() => ServicesAsync(server.Id), s => s.Length == 0, "service removed", agent);
            Assert.False(await AnswersAsync(port), "a removed DNS service still answers");
            if (runtime == "docker")
            {
                Assert.Equal(string.Empty, Docker("ps", "-aq", "--filter", $"label=io.managedservers.server={server.Id}").Trim());
            }
        }
        finally
        {
            CleanUp(server.Id);
        }
    }

    private async Task<ServiceView[]> ServicesAsync(string serverId) =>
        (await Silo.Http.GetFromJsonAsync<ServiceView[]>($"{Silo.BaseUrl}/api/v1/servers/{serverId}/services", ContractsJson.WireOptions))!;

    private async Task<ServiceView> WaitForServiceAsync(string serverId, Func<ServiceView, bool> condition, string what, ChildProcess agent) =>
        (await WaitAsync(() => ServicesAsync(serverId), s => s.Length == 1 && condition(s[0]), what, agent))[0];

    /// <summary>Any DNS answer (REFUSED included: no zones yet) from 127.0.0.1:port within 2 s.</summary>
    internal static async Task<bool> AnswersAsync(int port)
    {
        var client = new LookupClient(new LookupClientOptions(new NameServer(IPAddress.Loopback, port))
        {
            UseCache = false,
            Retries = 0,
            Timeout = TimeSpan.FromSeconds(2),
            UseTcpFallback = false,
            ThrowDnsErrors = false,
        });
        try
        {
            await client.QueryAsync(".", QueryType.SOA);
            return true;
        }
        catch (DnsResponseException)
        {
            return false;
        }
    }

    internal static async Task<bool> AnswersEventuallyAsync(int port)
    {
        for (var i = 0; i < 30; i++)
        {
            if (await AnswersAsync(port))
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }

    private static void KillService(string runtime, string serverId, string stateDir)
    {
        if (runtime == "docker")
        {
            Docker("kill", "--signal", "KILL", $"ms-{serverId}-dns");
            return;
        }

        Process.GetProcessById(ProcessOf("knotd", stateDir)).Kill();
    }

    /// <summary>The exec runtime's child <paramref name="daemon"/> whose command line names this agent's state directory.</summary>
    private static int ProcessOf(string daemon, string stateDir) =>
        TryProcessOf(daemon, stateDir) ?? throw new InvalidOperationException($"no {daemon} process for {stateDir}");

    private static int? TryProcessOf(string daemon, string stateDir) => Directory.EnumerateDirectories("/proc")
        .Select(d => (Pid: int.TryParse(Path.GetFileName(d), out var p) ? p : 0, Dir: d))
        .Where(p => p.Pid > 0)
        .Select(p => (p.Pid, CommandLine: TryRead(Path.Combine(p.Dir, "cmdline"))))
        .Where(p => p.CommandLine.Contains(daemon + " ", StringComparison.Ordinal) && p.CommandLine.Contains(stateDir, StringComparison.Ordinal))
        .Select(p => (int?)p.Pid)
        .SingleOrDefault();

    private static string TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static string[] ReadTarNames(byte[] targz)
    {
        using var gzip = new GZipStream(new MemoryStream(targz), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return [.. names];
    }

    internal static string Docker(params string[] args)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Containers of this test's server, and stray exec children, go whatever happened.</summary>
    /// <summary>Kills the exec runtime's <paramref name="daemon"/> of this agent's state directory, if it runs.</summary>
    internal static void KillDaemons(string daemon, string stateDir)
    {
        if (TryProcessOf(daemon, stateDir) is { } pid)
        {
            Process.GetProcessById(pid).Kill();
        }
    }

    /// <summary>
    /// Kills every exec-runtime daemon (knotd, kea) whose command line names a path under <paramref name="directory"/>:
    /// services outlive their agent, so a test's daemons go with the test, whatever happened.
    /// </summary>
    internal static void KillDaemonsUnder(string directory)
    {
        foreach (var pid in Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var p) ? p : 0)
            .Where(p => p > 0)
            .Where(p => TryRead($"/proc/{p}/cmdline") is var line && line.Contains(directory, StringComparison.Ordinal)
                && (line.Contains("knotd ", StringComparison.Ordinal) || line.Contains("kea-dhcp", StringComparison.Ordinal))))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // gone meanwhile
            }
        }
    }

    internal static void CleanUp(string serverId)
    {
        foreach (var id in Docker("ps", "-aq", "--filter", $"label=io.managedservers.server={serverId}").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Docker("rm", "-f", id);
        }
    }
}
