using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ManagedServers.Contracts.Agent;
using ManagedServers.Silo.Tests.Broker;
using ManagedServers.Silo.Tests.Rabbit;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Cluster mode for real: two silo processes on one PostgreSQL database and one RabbitMQ vhost, three
/// agent processes talking AMQP. One silo is SIGKILLed: its grains come back on the other with their
/// state, reminders keep firing, ingestion goes on, and a command in flight completes once.
/// </summary>
public sealed class AmqpClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(150);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ms-amqp-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly string _database = TestPostgres.NewDatabaseName("ms_amqp_");
    private readonly List<ChildProcess> _agents = [];
    private TestBroker _vhost = null!;
    private SiloProcess _siloA = null!;
    private SiloProcess _siloB = null!;

    public async Task InitializeAsync()
    {
        _vhost = await TestBroker.CreateAsync();
        var args = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = TestPostgres.ConnectionString(_database),
            ["Orleans:ClusterId"] = _database,
            ["Orleans:MinimumReminderPeriod"] = "00:00:01",
            ["ServerGrain:LivenessReminderPeriod"] = "00:00:03",
            ["RabbitMq:Host"] = _vhost.Admin.Host,
            ["RabbitMq:Port"] = _vhost.Admin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = _vhost.VirtualHost,
            ["RabbitMq:User"] = _vhost.Admin.User,
            ["RabbitMq:Password"] = _vhost.Admin.Password,
            ["RabbitMq:ManagementUrl"] = _vhost.Admin.ManagementUrl,
            ["RabbitMq:Partitions"] = "4",
            ["RabbitMq:MaxReconnectDelay"] = "00:00:02",

            // Every silo of a cluster must read what another sealed (the broker password): one key for all.
            ["Secrets:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        _siloA = new SiloProcess(Path.Combine(_dir, "silo-a"), args);
        await _siloA.StartAsync();
        _siloB = new SiloProcess(Path.Combine(_dir, "silo-b"), args);
        await _siloB.StartAsync();
        await _siloA.PutSettingsAsync(new MonitoringSettingsUpdate(HeartbeatIntervalSeconds: 2, HeartbeatMissedLimit: 3, SystemIntervalSeconds: 1));
        await Task.Delay(TimeSpan.FromSeconds(6)); // per-silo settings caches refresh every 5 s
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            agent.Dispose();
        }

        ServicesTests.KillDaemonsUnder(_dir); // the exec runtime's daemons outlive their agent

        await _siloA.DisposeAsync();
        await _siloB.DisposeAsync();
        await _vhost.DisposeAsync();
        await TestPostgres.DropAsync(_database);

        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Agents_on_AMQP_survive_the_SIGKILL_of_a_silo()
    {
        var servers = new List<ServerView>();
        var stateDirs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var created = await _siloA.Http.PostAsJsonAsync($"{_siloA.BaseUrl}/api/v1/servers", new CreateServerRequest($"amqp-dns-{i}", "dns", "127.0.0.1", "Debian 12", Communication: "amqp"), ContractsJson.WireOptions);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var server = (await created.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!;
            Assert.Equal("amqp", server.Communication);
            _vhost.Track(AmqpTopology.AgentUser(server.Id)); // broker users are not per vhost: remove them afterwards
            var bundle = await _siloA.WriteBundleAsync(server.Id, Path.Combine(_dir, "bundles"));
            var stateDir = Path.Combine(_dir, "agent" + i);
            var (code, text) = await AgentProcess.EnrollAsync(bundle, stateDir);
            Assert.True(code == 0, text);
            Assert.Contains("talks AMQP", text, StringComparison.Ordinal);
            servers.Add(server);
            stateDirs.Add(stateDir);
            _agents.Add(AgentProcess.RunVerbose(stateDir));
        }

        // Heartbeats through RabbitMQ, seen from either silo.
        foreach (var server in servers)
        {
            await WaitForAsync(_siloB, server.Id, s => s.State == "running", "running over AMQP");
        }

        // An HTTPS agent in the same cluster: the API writes its heartbeats into the same (RabbitMQ) stream.
        var https = await _siloA.CreateServerAsync("https-dns");
        Assert.Equal("push", https.Communication);
        var httpsBundle = await _siloA.WriteBundleAsync(https.Id, Path.Combine(_dir, "bundles"));
        var (httpsCode, httpsText) = await AgentProcess.EnrollAsync(httpsBundle, Path.Combine(_dir, "agent-https"));
        Assert.True(httpsCode == 0, httpsText);
        Assert.DoesNotContain("talks AMQP", httpsText, StringComparison.Ordinal);
        _agents.Add(AgentProcess.Run(Path.Combine(_dir, "agent-https")));
        await WaitForAsync(_siloB, https.Id, s => s.State == "running", "running over HTTPS through the RabbitMQ stream");

        // Commands reach the agents through their queues; results come back through the stream.
        foreach (var server in servers)
        {
            var done = await SendAndWaitAsync(_siloB, server.Id);
            Assert.Equal("succeeded", done.State);
        }

        // Agent 0 stops (its last heartbeat says so); a command for it waits in its queue.
        _agents[0].Terminate();
        Assert.True(await _agents[0].WaitForExitAsync(TimeSpan.FromSeconds(60)), _agents[0].Output);
        await WaitForAsync(_siloB, servers[0].Id, s => s.State == "stopped", "stopped");
        var inFlight = await SendAsync(_siloB, servers[0].Id);

        var before = new Dictionary<string, ServerView>();
        foreach (var server in servers)
        {
            before[server.Id] = (await _siloB.GetServerAsync(server.Id))!;
        }

        // SIGKILL silo A: no goodbye to the cluster, the broker or the database.
        var killedAt = DateTime.UtcNow;
        _siloA.KillHard();

        // Ingestion goes on: heartbeats of the running agents keep arriving, whichever silo held their partition.
        foreach (var server in servers.Skip(1))
        {
            var last = before[server.Id].LastHeartbeat;
            var after = await WaitForAsync(_siloB, server.Id, s => s.State == "running" && s.LastHeartbeat > last && s.LastHeartbeat > killedAt, "heartbeats after the kill");
            Assert.Equal(before[server.Id].Name, after.Name);
            Assert.Equal(before[server.Id].CreatedAt, after.CreatedAt);
        }

        output.WriteLine($"ingestion resumed {(DateTime.UtcNow - killedAt).TotalSeconds:F1} s after the SIGKILL");

        // System samples over AMQP: the agents enrolled with the default 5 s interval and follow the 1 s
        // setting through a configure command; every sample an agent took, before and after the kill, is
        // stored exactly once.
        var killedAtMs = new DateTimeOffset(killedAt, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var sampling = DateTime.UtcNow + Patience;
        while (new[] { 1, 2 }.Any(i => AgentProcess.SpooledSampleTimes(_agents[i].Output).Count(t => t > killedAtMs) < 5) && DateTime.UtcNow < sampling)
        {
            await Task.Delay(500);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var windowStart = new DateTimeOffset(killedAt, TimeSpan.Zero).AddSeconds(-20);
        var windowEnd = DateTimeOffset.UtcNow.AddSeconds(-3);
        foreach (var i in new[] { 1, 2 })
        {
            var produced = AgentProcess.SpooledSampleTimes(_agents[i].Output)
                .Where(t => t >= windowStart.ToUnixTimeMilliseconds() && t < windowEnd.ToUnixTimeMilliseconds()).Order().ToList();
            Assert.True(produced.Count >= 5 && produced.Count(t => t > killedAtMs) >= 5, $"agent {i} took {produced.Count} samples in {(windowEnd - windowStart).TotalSeconds:0} s:\n{_agents[i].Output}");
            List<long> stored = [];
            var deadline = DateTime.UtcNow + Patience;
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    stored = [.. (await _siloB.GetRawSamplesAsync(servers[i].Id, windowStart)).Items
                        .Select(s => s.Time.ToUnixTimeMilliseconds()).Where(t => t < windowEnd.ToUnixTimeMilliseconds())];
                    if (produced.All(stored.Contains))
                    {
                        break;
                    }
                }
                catch (Xunit.Sdk.XunitException)
                {
                    // 5xx while the cluster settles
                }

                await Task.Delay(500);
            }

            output.WriteLine($"agent {i}: {produced.Count} samples taken around the kill, {stored.Count} stored");
            Assert.Equal(produced, stored);
        }

        // The command sent before the kill completes once when its agent comes back.
        var restarted = AgentProcess.Run(stateDirs[0]);
        _agents.Add(restarted);
        var completed = await WaitCommandAsync(_siloB, servers[0].Id, inFlight.Id);
        Assert.Equal("succeeded", completed.State);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, CountOccurrences(restarted.Output, $"Command {inFlight.Id} (ping) succeeded"));

        // Reminders and timers keep firing on the survivor: a hard-killed agent becomes unreachable.
        _agents[2].KillHard();
        await WaitForAsync(_siloB, servers[2].Id, s => s.State == "unreachable", "unreachable after its agent died");
    }

    [Fact]
    public async Task A_long_action_whose_silo_is_killed_finishes_after_failover_once()
    {
        // An AMQP DNS server on the exec runtime; its agent spends 2 s between the steps of an install.
        using var created = await _siloA.Http.PostAsJsonAsync($"{_siloA.BaseUrl}/api/v1/servers", new CreateServerRequest("amqp-long", "dns", "127.0.0.1", "Debian 12", Runtime: "exec", Communication: "amqp"), ContractsJson.WireOptions);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var server = (await created.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!;
        _vhost.Track(AmqpTopology.AgentUser(server.Id));
        var stateDir = Path.Combine(_dir, "agent-long");
        var (code, text) = await AgentProcess.EnrollAsync(await _siloA.WriteBundleAsync(server.Id, Path.Combine(_dir, "bundles")), stateDir);
        Assert.True(code == 0, text);
        var agent = AgentProcess.RunVerbose(stateDir, new Dictionary<string, string> { ["MANAGEDSERVERS_AGENT_STEP_DELAY_MS"] = "2000" });
        _agents.Add(agent);
        await WaitForAsync(_siloA, server.Id, s => s.State == "running", "running over AMQP");

        var port = Build.FreePort();
        using var started = await _siloA.Http.PostAsJsonAsync($"{_siloA.BaseUrl}/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", ListenAddress: "127.0.0.1", Port: port), ContractsJson.WireOptions);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = (await started.Content.ReadFromJsonAsync<JobView>(ContractsJson.WireOptions))!;

        // Kill the silo that holds the server's grain (it logged the job), once the agent has the job and is mid-way.
        var holder = (await WaitForAnyAsync(() => Task.FromResult(new[] { _siloA, _siloB }.FirstOrDefault(s => s.Output.Contains($"job {job.JobId}", StringComparison.Ordinal))), "the silo holding the job"))!;
        var survivor = holder == _siloA ? _siloB : _siloA;
        await WaitForAnyAsync(() => Task.FromResult(agent.Output.Contains("(service.install) started", StringComparison.Ordinal) ? "started" : null), "the agent working on the install");

        // Live progress: the agent's heartbeats carry its steps while it works, before any result.
        var midway = await WaitForAnyAsync(
            async () =>
            {
                var view = await survivor.Http.GetFromJsonAsync<JobView>($"{survivor.BaseUrl}/api/v1/jobs/{job.JobId}", ContractsJson.WireOptions);
                return view is { State: "running", Progress: > 10 } && view.Steps.Any(s => s.Message.StartsWith("agent: ", StringComparison.Ordinal)) ? view : null;
            },
            "agent steps in the job before its result");
        output.WriteLine($"mid-way: {midway.Progress} %, last step '{midway.Steps[^1].Message}'");
        holder.KillHard();
        var killedAt = DateTime.UtcNow;

        // The job finishes, through the survivor, and the install ran once on the agent.
        JobView? done = null;
        await WaitForAnyAsync(
            async () =>
            {
                try
                {
                    done = await survivor.Http.GetFromJsonAsync<JobView>($"{survivor.BaseUrl}/api/v1/jobs/{job.JobId}?wait_seconds=10&version={done?.Version ?? -1}", ContractsJson.WireOptions);
                }
                catch (HttpRequestException)
                {
                    // 5xx while the cluster notices the dead silo
                }

                return done is { State: "succeeded" or "failed" } ? done : null;
            },
            "the job finished after the kill");
        Assert.True(done!.State == "succeeded", $"{done.Error}\n{string.Join('\n', done.Steps.Select(s => s.Message))}\n{agent.Output}");
        Assert.True(done.FinishedAt > killedAt, "the job must have finished after the kill (else this test proves nothing)");
        Assert.Single(done.Steps, s => s.Message == "succeeded");
        var agentSteps = done.Steps.Where(s => s.Message.StartsWith("agent: ", StringComparison.Ordinal)).Select(s => s.Message).ToList();
        Assert.Equal(agentSteps.Distinct().Count(), agentSteps.Count);
        Assert.True(await ServicesTests.AnswersEventuallyAsync(port), "the DNS service does not answer");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(agent.Output, @"Command cmd_\w+ \(service\.install\) succeeded"));
        var service = Assert.Single((await survivor.GetServerAsync(server.Id))!.Services!);
        Assert.Equal((0, "running"), (service.RestartCount, service.State));
        var jobs = (await survivor.Http.GetFromJsonAsync<PageOf<JobView>>($"{survivor.BaseUrl}/api/v1/jobs?server={server.Id}", ContractsJson.WireOptions))!;
        Assert.Equal(1, jobs.Total);
        output.WriteLine($"job {job.JobId} finished {(done.FinishedAt!.Value.UtcDateTime - killedAt).TotalSeconds:F1} s after the SIGKILL of its silo");

        // Diagnostics and a debug bundle over AMQP (results through the RabbitMQ ingestion stream): the broker check
        // passes with the agent's own credentials, and the bundle comes back whole.
        using var diagnosticsStarted = await survivor.Http.PostAsync($"{survivor.BaseUrl}/api/v1/servers/{server.Id}/diagnostics", null);
        Assert.Equal(HttpStatusCode.Accepted, diagnosticsStarted.StatusCode);
        var diagnostics = (await diagnosticsStarted.Content.ReadFromJsonAsync<JobView>(ContractsJson.WireOptions))!;
        diagnostics = await WaitForAnyAsync(
            async () =>
            {
                var view = await survivor.Http.GetFromJsonAsync<JobView>($"{survivor.BaseUrl}/api/v1/jobs/{diagnostics.JobId}?wait_seconds=10&version={diagnostics.Version}", ContractsJson.WireOptions);
                return view is { State: "succeeded" or "failed" } ? view : null;
            },
            "diagnostics over AMQP");
        Assert.True(diagnostics.State == "succeeded", diagnostics.Error);
        var report = diagnostics.Result!.Value.Deserialize(ContractsJson.Default.DiagnosticsReport)!;
        var broker = Assert.Single(report.Checks, c => c.Name == "broker");
        Assert.True(broker.Status == "pass", broker.Message);
        // The server may have been marked unreachable while its stream queue moved to the survivor (heartbeats every 2 s,
        // 3 missed): a bundle needs it online, so wait for a heartbeat first.
        await WaitForAsync(survivor, server.Id, s => s.State == "running", "running again after the failover");
        using var bundle = await survivor.Http.GetAsync($"{survivor.BaseUrl}/api/v1/servers/{server.Id}/debug-bundle");
        Assert.True(bundle.StatusCode == HttpStatusCode.OK, $"{(int)bundle.StatusCode}: {await bundle.Content.ReadAsStringAsync()}");
        var bytes = await bundle.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 100 && bytes[0] == 0x1f && bytes[1] == 0x8b, "not a gzip stream");

        agent.Terminate();
        Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)), agent.Output);
    }

    private static async Task<T> WaitForAnyAsync<T>(Func<Task<T?>> read, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (await read() is { } value)
            {
                return value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"timed out waiting for {what}");
    }

    private static int CountOccurrences(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task<CommandView> SendAsync(SiloProcess silo, string id)
    {
        using var response = await silo.Http.PostAsJsonAsync($"{silo.BaseUrl}/api/v1/servers/{id}/commands", new SendCommandRequest("ping"), ContractsJson.WireOptions);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CommandView>(ContractsJson.WireOptions))!;
    }

    private static async Task<CommandView> SendAndWaitAsync(SiloProcess silo, string id) =>
        await WaitCommandAsync(silo, id, (await SendAsync(silo, id)).Id);

    private static async Task<CommandView> WaitCommandAsync(SiloProcess silo, string id, string commandId)
    {
        var deadline = DateTime.UtcNow + Patience;
        CommandView? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await silo.Http.GetFromJsonAsync<CommandView>($"{silo.BaseUrl}/api/v1/servers/{id}/commands/{commandId}?wait_seconds=10", ContractsJson.WireOptions);
                if (last is { State: "succeeded" or "failed" or "expired" })
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // The silo may answer 5xx while the cluster notices the dead silo.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"command {commandId} did not complete; last: {last?.State}\n{silo.Output[^Math.Min(silo.Output.Length, 4000)..]}");
    }

    private async Task<ServerView> WaitForAsync(SiloProcess silo, string id, Func<ServerView, bool> condition, string what)
    {
        var started = DateTime.UtcNow;
        var deadline = started + Patience;
        ServerView? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await silo.GetServerAsync(id);
                if (last is not null && condition(last))
                {
                    output.WriteLine($"{id}: {what} after {(DateTime.UtcNow - started).TotalSeconds:F1} s");
                    return last;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (System.Text.Json.JsonException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{id} not {what}; last state {last?.State}, last heartbeat {last?.LastHeartbeat:o}\n{silo.Output[^Math.Min(silo.Output.Length, 4000)..]}");
    }
}
