using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Api.Pki;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Silo.Pull;
using ManagedServers.Silo.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.Monitoring;

/// <summary>
/// Pull mode on an in-process silo against in-process fake agents (one TLS endpoint that answers for five servers by
/// TLS server name, each with its own agent certificate from the cluster's CA, and takes 300 ms per answer): every
/// server's grain pulls on its own timer, so pulls of different servers overlap in time — never one after another —
/// and every sample a fake agent handed out is stored once, and forgotten by it only after the grain acknowledged it.
/// </summary>
public sealed class PullConcurrencyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Servers = 5;
    private static readonly TimeSpan AnswerDelay = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ms-pull-" + Guid.NewGuid().ToString("N")[..12]);
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = "pull-" + Guid.NewGuid().ToString("N");
        builder.Properties["DataDir"] = _dataDir;
        builder.Properties["Orleans:MinimumReminderPeriod"] = "00:00:01";
        builder.Properties["ServerGrain:PullReminderPeriod"] = "00:00:05";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _cluster.StopAllSilosAsync();
        }
        finally
        {
            await _cluster.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>How long a round that was in flight at a switch may still be making its requests.</summary>
    private static readonly TimeSpan InFlightMargin = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Pulls_of_different_servers_overlap_and_store_every_sample_once()
    {
        var services = ((InProcessSiloHandle)_cluster.Primary!).SiloHost.Services;
        var issuer = services.GetRequiredService<CertificateIssuer>();
        var puller = services.GetRequiredService<AgentPuller>();
        var grains = _cluster.GrainFactory;
        await grains.GetGrain<IMonitoringSettingsGrain>("monitoring").SetAsync(MonitoringSettings.Default with { SystemIntervalSeconds = 1, HeartbeatIntervalSeconds = 2 });

        // The control plane's client certificate: its own name, clientAuth only, short-lived, kept in memory.
        var client = await issuer.GetControlPlaneClientCertificateAsync();
        Assert.Same(client, await issuer.GetControlPlaneClientCertificateAsync());
        Assert.Equal(AgentApi.ControlPlaneCommonName, CaChain.CommonName(client));
        Assert.True(client.HasPrivateKey);
        Assert.Null(CaChain.CheckControlPlaneClient(client, [await issuer.GetCaAsync()]));
        Assert.Equal([CaChain.ClientAuthOid], client.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        Assert.InRange(client.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
        Assert.Null(await issuer.ValidateAgentCertificateAsync(client)); // and it is no agent

        var ids = Enumerable.Range(0, Servers).Select(i => $"srv-{i:D16}").ToArray();
        await using var agents = await FakeAgents.StartAsync(issuer, ids);
        foreach (var id in ids)
        {
            await grains.GetGrain<IManagedServerGrain>(id).CreateAsync(
                new ServerDefinition(id, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Pull, string.Empty, "u-" + id, agents.Port));
        }

        // Every server runs (pulled heartbeats) and has samples stored.
        var clock = Stopwatch.StartNew();
        var from = DateTimeOffset.UtcNow.AddMinutes(-5);
        while (true)
        {
            var counts = await Task.WhenAll(ids.Select(async id => (await grains.GetGrain<IServerMetricsGrain>(id).GetRawAsync(from, DateTimeOffset.UtcNow.AddMinutes(5), MetricFilter.All, 1000)).Length));
            var states = await Task.WhenAll(ids.Select(async id => (await grains.GetGrain<IManagedServerGrain>(id).GetAsync())!.State));
            if (counts.All(c => c >= 4) && states.All(s => s == ServerState.Running))
            {
                break;
            }

            Assert.True(clock.Elapsed < Deadline, $"timed out: samples {string.Join(",", counts)}, states {string.Join(",", states)}; agent log:\n{agents.Log}");
            await Task.Delay(250);
        }

        // Overlap: some pull of one server started before a pull of another server had ended.
        var pulls = puller.RecentPulls().Where(p => p.Succeeded).OrderBy(p => p.Started).ToList();
        var overlapping = 0;
        for (var i = 0; i < pulls.Count; i++)
        {
            for (var j = i + 1; j < pulls.Count && pulls[j].Started < pulls[i].Ended; j++)
            {
                if (pulls[j].ServerId != pulls[i].ServerId)
                {
                    overlapping++;
                }
            }
        }

        output.WriteLine($"{pulls.Count} pull requests of {pulls.Select(p => p.ServerId).Distinct().Count()} servers; {overlapping} overlapping pairs of different servers; at most {puller.MaxConcurrentPulls} in flight at once");
        Assert.Equal(ids.Order(), pulls.Select(p => p.ServerId).Distinct().Order());
        Assert.True(overlapping > 0, "pulls of different servers never overlapped");
        Assert.True(puller.MaxConcurrentPulls >= 2, $"at most {puller.MaxConcurrentPulls} pull in flight at once");
        Assert.DoesNotContain(pulls.GroupBy(p => p.ServerId), g => Overlaps(g.ToList())); // one server: one request at a time

        // Exactly once: every sample a fake agent forgot (acknowledged) is stored, none twice, nothing else stored.
        foreach (var id in ids)
        {
            var stored = (await grains.GetGrain<IServerMetricsGrain>(id).GetRawAsync(from, DateTimeOffset.UtcNow.AddMinutes(5), MetricFilter.All, 10_000)).Select(s => s.TimeMs).ToList();
            var agent = agents.Of(id);
            Assert.Equal(stored.Count, stored.Distinct().Count());
            Assert.All(agent.Acknowledged(), t => Assert.Contains(t, stored));
            Assert.All(stored, t => Assert.Contains(t, agent.HandedOut()));
        }
    }

    [Fact]
    public async Task Switching_to_and_from_pull_starts_and_stops_pulls_and_the_reminder()
    {
        var services = ((InProcessSiloHandle)_cluster.Primary!).SiloHost.Services;
        var issuer = services.GetRequiredService<CertificateIssuer>();
        var puller = services.GetRequiredService<AgentPuller>();
        var reminders = services.GetRequiredService<IReminderTable>();
        var grains = _cluster.GrainFactory;
        await grains.GetGrain<IMonitoringSettingsGrain>("monitoring").SetAsync(MonitoringSettings.Default with { SystemIntervalSeconds = 1, HeartbeatIntervalSeconds = 2 });
        const string id = "srv-00000000005a1c01";
        await using var agents = await FakeAgents.StartAsync(issuer, [id]);
        var grain = grains.GetGrain<IManagedServerGrain>(id);
        await grain.CreateAsync(new ServerDefinition(id, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-" + id));
        async Task<bool> HasPullReminderAsync() => (await reminders.ReadRows(grain.GetGrainId())).Reminders.Any(r => r.ReminderName == "pull");
        int Pulls() => puller.RecentPulls().Count(p => p.ServerId == id);

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, Pulls());
        Assert.False(await HasPullReminderAsync());

        await grain.UpdateAsync(new ServerPatch(Communication: CommunicationMode.Pull, PullPort: agents.Port));
        Assert.True(await HasPullReminderAsync());
        var clock = Stopwatch.StartNew();
        while (Pulls() < 3)
        {
            Assert.True(clock.Elapsed < Deadline, "no pulls after switching to pull:\n" + agents.Log);
            await Task.Delay(200);
        }

        await grain.UpdateAsync(new ServerPatch(Communication: CommunicationMode.Push));
        var switchedAt = DateTimeOffset.UtcNow;
        Assert.False(await HasPullReminderAsync());

        // A round in flight may still make its remaining requests; no new round starts. Judged by the requests'
        // start times, not by counting within a fixed sleep, so a slow machine cannot fail it.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var late = puller.RecentPulls().Where(p => p.ServerId == id && p.Started > switchedAt + InFlightMargin).ToList();
        Assert.True(late.Count == 0, $"{late.Count} pulls started after switching away from pull: {string.Join(", ", late.Select(p => p.Started.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)))}");

        await grain.UpdateAsync(new ServerPatch(Communication: CommunicationMode.Pull));
        await grain.DeleteAsync();
        Assert.False(await HasPullReminderAsync());
    }

    private static bool Overlaps(List<PullTiming> pulls)
    {
        pulls.Sort((a, b) => a.Started.CompareTo(b.Started));
        return pulls.Zip(pulls.Skip(1)).Any(p => p.Second.Started < p.First.Ended);
    }

    /// <summary>One TLS endpoint standing in for several agents: the certificate by TLS server name (= server id).</summary>
    private sealed class FakeAgents : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Dictionary<string, FakeAgent> _agents;
        private readonly ConcurrentQueue<string> _log = new();

        private FakeAgents(WebApplication app, Dictionary<string, FakeAgent> agents)
        {
            _app = app;
            _agents = agents;
        }

        public int Port { get; private set; }

        public string Log => string.Join('\n', _log);

        public FakeAgent Of(string id) => _agents[id];

        public static async Task<FakeAgents> StartAsync(CertificateIssuer issuer, IReadOnlyList<string> ids)
        {
            var ca = await issuer.GetCaAsync();
            var agents = new Dictionary<string, FakeAgent>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var csr = new CertificateRequest($"CN={id}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
                using var signed = await issuer.SignAgentCsrAsync(csr, id, TimeSpan.FromDays(1));
                var usages = signed.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
                Assert.Equal([CaChain.ServerAuthOid, CaChain.ClientAuthOid], usages.Order()); // agents' certificates serve the pull endpoint too
                agents[id] = new FakeAgent(id, CaChain.WithKey(signed.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem()));
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificateSelector = (_, name) => name is not null && agents.TryGetValue(name, out var a) ? a.Certificate : null,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = (client, _, _) => CaChain.CheckControlPlaneClient(client, [ca]) is null,
            })));
            var app = builder.Build();
            var fakes = new FakeAgents(app, agents);
            app.MapGet(AgentApi.PullSamples, async (HttpContext context, long? ack, int? max) =>
            {
                var agent = agents[context.Request.Host.Host];
                await Task.Delay(AnswerDelay);
                var batch = agent.Pull(ack ?? 0, max ?? AgentApi.PullDefaultMax);
                fakes._log.Enqueue($"{agent.Id} ack={ack} answered={batch.Samples.Count}");
                return Results.Bytes(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(batch, ContractsJson.Default.MetricsBatch), "application/json");
            });
            app.MapGet(AgentApi.PullHeartbeat, (HttpContext context) =>
            {
                var agent = agents[context.Request.Host.Host];
                return Results.Bytes(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(agent.Beat(), ContractsJson.Default.Heartbeat), "application/json");
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            fakes.Port = new Uri(address).Port;
            return fakes;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            foreach (var agent in _agents.Values)
            {
                agent.Certificate.Dispose();
            }
        }
    }

    /// <summary>A fake agent's spool: each pull takes a new sample, forgets everything up to the ack, answers the rest.</summary>
    private sealed class FakeAgent(string id, X509Certificate2 certificate)
    {
        private readonly Lock _lock = new();
        private readonly SortedSet<long> _spool = [];
        private readonly List<long> _handedOut = [];
        private readonly List<long> _acknowledged = [];
        private readonly Guid _boot = Guid.NewGuid();
        private long _sequence;
        private long _last;

        public string Id => id;

        public X509Certificate2 Certificate => certificate;

        public MetricsBatch Pull(long ack, int max)
        {
            lock (_lock)
            {
                _last = Math.Max(_last + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                _spool.Add(_last);
                foreach (var t in _spool.Where(t => t <= ack).ToList())
                {
                    _spool.Remove(t);
                    _acknowledged.Add(t);
                }

                var answer = _spool.Take(max).ToList();
                _handedOut.AddRange(answer);
                return new MetricsBatch(id, Guid.NewGuid(), [.. answer.Select(t => new SystemSample(DateTimeOffset.FromUnixTimeMilliseconds(t), new Dictionary<string, double> { ["cpu.load1"] = t % 7 }))]);
            }
        }

        public Heartbeat Beat() =>
            new(id, Guid.NewGuid(), _boot, Interlocked.Increment(ref _sequence), DateTimeOffset.UtcNow, "0.0.0-fake", 1, "fake", "fake");

        public IReadOnlyList<long> Acknowledged()
        {
            lock (_lock)
            {
                return [.. _acknowledged];
            }
        }

        public HashSet<long> HandedOut()
        {
            lock (_lock)
            {
                return [.. _handedOut];
            }
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var configuration = siloBuilder.Configuration;
            siloBuilder.ConfigureManagedServers(configuration, StorageConfig.Sqlite(configuration["DataDir"]!), configureClustering: false);
            siloBuilder.Services.AddAgentPuller(configuration);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddMemoryStreams(StreamNames.IngestProvider);
    }
}
