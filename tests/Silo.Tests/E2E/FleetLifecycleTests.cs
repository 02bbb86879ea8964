using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// The real thing: a silo process and three agent processes over HTTPS + mTLS on loopback.
/// Intervals are shortened (2 s heartbeats, unreachable after 3 missed); bounds are generous
/// liveness limits, the measured delays are printed, not asserted tightly.
/// </summary>
public abstract class FleetLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ms-e2e-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<ChildProcess> _agents = [];
    private SiloProcess _silo = null!;

    /// <summary>Extra silo switches that select the storage mode.</summary>
    protected abstract IDictionary<string, string> StorageArgs { get; }

    protected virtual Task CleanupStorageAsync() => Task.CompletedTask;

    /// <summary>Where the silo's database mentions a string (read from the database itself, not through the API).</summary>
    protected abstract Task<List<string>> RowsMentioningAsync(string dataDir, string needle);

    public async Task InitializeAsync()
    {
        _silo = new SiloProcess(Path.Combine(_dir, "silo"), StorageArgs);
        await _silo.StartAsync();
        await _silo.PutSettingsAsync(new MonitoringSettingsUpdate(HeartbeatIntervalSeconds: 2, HeartbeatMissedLimit: 3, SystemIntervalSeconds: 1));
        await Task.Delay(TimeSpan.FromSeconds(6)); // per-silo settings caches refresh every 5 s
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            agent.Dispose();
        }

        await _silo.DisposeAsync();
        await CleanupStorageAsync();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Three_agents_stop_die_return_survive_a_silo_restart_and_are_refused_after_delete()
    {
        var servers = new List<ServerView>();
        var stateDirs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var server = await _silo.CreateServerAsync($"e2e-dns-{i}");
            var bundle = await _silo.WriteBundleAsync(server.Id, Path.Combine(_dir, "bundles"));
            var stateDir = Path.Combine(_dir, "agent" + i);
            var (code, text) = await AgentProcess.EnrollAsync(bundle, stateDir);
            Assert.True(code == 0, $"enroll failed ({code}): {text}");
            servers.Add(server);
            stateDirs.Add(stateDir);
            _agents.Add(AgentProcess.Run(stateDir));
        }

        foreach (var s in servers)
        {
            await WaitForStateAsync(s.Id, "running");
        }

        // Commands flow down and results come back.
        using (var ping = await _silo.Http.PostAsync($"{_silo.BaseUrl}/api/v1/servers/{servers[0].Id}/ping", null))
        {
            var body = await ping.Content.ReadAsStringAsync();
            Assert.True(ping.IsSuccessStatusCode, body);
            Assert.Contains("\"ok\":true", body, StringComparison.Ordinal);
        }

        // SIGTERM: the agent says goodbye → stopped.
        _agents[0].Terminate();
        Assert.True(await _agents[0].WaitForExitAsync(TimeSpan.FromSeconds(30)), _agents[0].Output);
        await WaitForStateAsync(servers[0].Id, "stopped");

        // SIGKILL: silence → unreachable.
        var killedAt = Stopwatch.StartNew();
        _agents[1].KillHard();
        await WaitForStateAsync(servers[1].Id, "unreachable");
        output.WriteLine($"SIGKILL → unreachable after {killedAt.Elapsed.TotalSeconds:F1} s (timeout 3 × 2 s)");

        // Restart both agents from their state dirs → running.
        _agents[0] = AgentProcess.Run(stateDirs[0]);
        _agents[1] = AgentProcess.Run(stateDirs[1]);
        await WaitForStateAsync(servers[0].Id, "running");
        await WaitForStateAsync(servers[1].Id, "running");

        // Restart the silo: agents keep their certificates and come back without re-enrolment.
        var certificates = stateDirs.Select(d => File.ReadAllText(Path.Combine(d, "cert.pem"))).ToList();
        await _silo.StopAsync();
        var restartedAt = DateTimeOffset.UtcNow;
        await _silo.StartAsync();
        foreach (var s in servers)
        {
            await WaitForAsync(s.Id, v => v.State == "running" && v.LastHeartbeat > restartedAt, "running with a heartbeat after the restart");
        }

        Assert.Equal(certificates, stateDirs.Select(d => File.ReadAllText(Path.Combine(d, "cert.pem"))).ToList());

        // Delete a server that has a state, reminders, samples, minute aggregates and events: its agent is refused from
        // then on, and the database holds nothing of it (state rows, reminders, metric series, index, name claim).
        await WaitForSamplesAsync(servers[2].Id);
        Assert.NotEmpty(await RowsMentioningAsync(_silo.DataDir, servers[2].Id));
        using (var delete = await _silo.Http.DeleteAsync($"{_silo.BaseUrl}/api/v1/servers/{servers[2].Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var probe = AgentTls.ClientFor(stateDirs[2], $"https://127.0.0.1:{_silo.AgentPort}"))
        using (var refused = await AgentTls.PostHeartbeatAsync(probe, AgentTls.Beat(servers[2].Id)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("agent-revoked", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True(await _agents[2].WaitForExitAsync(Patience), "the deleted server's agent kept running:\n" + _agents[2].Output);
        Assert.NotEqual(0, _agents[2].ExitCode);
        Assert.Null(await _silo.GetServerAsync(servers[2].Id));
        // The fleet index shard writes its state a second after a change (debounced): allow a few seconds.
        var left = await RowsMentioningAsync(_silo.DataDir, servers[2].Id);
        for (var wait = Stopwatch.StartNew(); left.Count > 0 && wait.Elapsed < TimeSpan.FromSeconds(15);)
        {
            await Task.Delay(500);
            left = await RowsMentioningAsync(_silo.DataDir, servers[2].Id);
        }

        Assert.True(left.Count == 0, "the deleted server left rows:\n" + string.Join("\n", left.Distinct()));
        Assert.NotEmpty(await RowsMentioningAsync(_silo.DataDir, servers[1].Id)); // the scan sees a live server
    }

    private async Task WaitForSamplesAsync(string id)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var raw = await _silo.Http.GetFromJsonAsync<RawSamplesView>($"{_silo.BaseUrl}/api/v1/monitoring/system/raw?server={id}", ContractsJson.WireOptions);
            if (raw is { Items.Count: > 0 })
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"no samples from {id}");
    }

    private Task WaitForStateAsync(string id, string state) => WaitForAsync(id, v => v.State == state, state);

    private async Task WaitForAsync(string id, Func<ServerView, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        ServerView? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await _silo.GetServerAsync(id);
            if (last is not null && condition(last))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"server {id} never became {what}; last state {last?.State}, last heartbeat {last?.LastHeartbeat:O}\nsilo:\n{Tail(_silo.Output)}\nagents:\n{string.Join("\n---\n", _agents.Select(a => Tail(a.Output)))}");
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;
}

/// <summary>The embedded default: SQLite under the data directory, localhost clustering.</summary>
public sealed class SqliteFleetLifecycleTests(ITestOutputHelper output) : FleetLifecycleTests(output)
{
    protected override IDictionary<string, string> StorageArgs { get; } = new Dictionary<string, string>();

    protected override Task<List<string>> RowsMentioningAsync(string dataDir, string needle) => Storage.DatabaseScan.SqliteRowsMentioningAsync(dataDir, needle);
}

/// <summary>Cluster mode: ADO.NET clustering, storage and reminders on a fresh PostgreSQL database.</summary>
public sealed class PostgresFleetLifecycleTests(ITestOutputHelper output) : FleetLifecycleTests(output)
{
    private readonly string _database = TestPostgres.NewDatabaseName("ms_e2e_");

    protected override IDictionary<string, string> StorageArgs => new Dictionary<string, string>
    {
        ["ConnectionStrings:Postgres"] = TestPostgres.ConnectionString(_database),
        ["Orleans:ClusterId"] = _database,
    };

    protected override Task CleanupStorageAsync() => TestPostgres.DropAsync(_database);

    protected override Task<List<string>> RowsMentioningAsync(string dataDir, string needle) =>
        Storage.DatabaseScan.PostgresRowsMentioningAsync(TestPostgres.ConnectionString(_database), needle);
}
