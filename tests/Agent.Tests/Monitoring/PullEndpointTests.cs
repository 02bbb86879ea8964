using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Security;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests.Monitoring;

/// <summary>
/// The pull endpoint over real TLS: only the control plane's client certificate (pinned CA, clientAuth, CN
/// managedservers-control-plane) is answered; samples come oldest first; an ack removes exactly the samples up to it.
/// </summary>
public sealed class PullEndpointTests : IAsyncLifetime
{
    private const string ServerId = "srv-0123456789abcdef";
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _temp = new();
    private readonly TestCa _ca = TestCa.Create();
    private readonly CapturingLoggerProvider _logs = new();
    private X509Certificate2 _agentCertificate = null!;
    private TelemetrySpool<SystemSample> _spool = null!;
    private PullEndpoint _endpoint = null!;
    private ILoggerFactory _loggers = null!;

    public async Task InitializeAsync()
    {
        _agentCertificate = _ca.IssueLeaf(ServerId, CaChain.ServerAuthOid, CaChain.ClientAuthOid);
        _spool = new TelemetrySpool<SystemSample>(TelemetryPipelines.System.Spool, _temp.Combine("spool"));
        var state = new StateDirectory(_temp.Combine("state"));
        state.EnsureCreated();
        var settings = new AgentRuntimeSettings(new AgentSettings(ServerId, "pull-1", "https://127.0.0.1:1", 30), state);
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        _endpoint = new PullEndpoint(
            new IPEndPoint(IPAddress.Loopback, 0),
            _spool,
            new AgentInfo(TimeProvider.System),
            settings,
            new CaTrust([_ca.Certificate]),
            () => _agentCertificate,
            TimeProvider.System,
            _loggers.CreateLogger<PullEndpoint>());
        await _endpoint.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _endpoint.StopAsync(CancellationToken.None);
        _endpoint.Dispose();
        _loggers.Dispose();
        _agentCertificate.Dispose();
        _ca.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Refuses_clients_without_a_certificate_from_another_ca_or_with_another_name()
    {
        for (var i = 0; i < 3; i++)
        {
            _spool.Append(Sample(i));
        }

        using var otherCa = TestCa.Create("Some Other CA");
        using var foreign = otherCa.IssueLeaf(AgentApi.ControlPlaneCommonName, CaChain.ClientAuthOid);
        using var wrongName = _ca.IssueLeaf("srv-someone-else", CaChain.ClientAuthOid);
        using var serverOnly = _ca.IssueLeaf(AgentApi.ControlPlaneCommonName, CaChain.ServerAuthOid);
        foreach (var (client, why) in new (X509Certificate2?, string)[]
        {
            (null, "no client certificate"),
            (foreign, "not a client certificate of the control plane CA"),
            (wrongName, "CN is 'srv-someone-else'"),
            (serverOnly, "not a client certificate of the control plane CA"),
        })
        {
            using var http = Client(client);
            bool Refusal(string l) => l.Contains("refused", StringComparison.Ordinal) && l.Contains(why, StringComparison.Ordinal);
            var before = _logs.Lines.Count(Refusal); // two cases share a reason: count new lines, not any line
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync($"{AgentApi.PullSamples}?ack={Ms(2)}"));
            await Eventually.TrueAsync(() => _logs.Lines.Count(Refusal) > before, $"a refusal naming '{why}'");
        }

        Assert.Equal(3, _spool.Count); // nothing acknowledged by a refused client
    }

    [Fact]
    public async Task Returns_samples_oldest_first_and_an_ack_removes_exactly_the_acked_ones()
    {
        foreach (var i in new[] { 4, 0, 2, 1, 3 })
        {
            _spool.Append(Sample(i));
        }

        using var control = _ca.IssueLeaf(AgentApi.ControlPlaneCommonName, CaChain.ClientAuthOid);
        using var http = Client(control);

        // No ack: nothing removed; max limits the answer; the oldest come first.
        var first = await PullAsync(http, "?max=3");
        Assert.Equal(ServerId, first.ServerId);
        Assert.Equal([Ms(0), Ms(1), Ms(2)], first.Samples.Select(s => s.Time.ToUnixTimeMilliseconds()));
        Assert.Equal(0.5, first.Samples[0].Values[SystemMetricNames.Load1]);
        Assert.Equal(5, _spool.Count);

        // The same connection (keep-alive) acks through sample 1: exactly samples 0 and 1 go.
        var second = await PullAsync(http, $"?ack={Ms(1)}");
        Assert.Equal([Ms(2), Ms(3), Ms(4)], second.Samples.Select(s => s.Time.ToUnixTimeMilliseconds()));
        Assert.Equal(3, _spool.Count);
        Assert.NotEqual(first.BatchId, second.BatchId);

        // An ack between two sample times removes the older only; a new sample shows up after the rest.
        _spool.Append(Sample(5));
        var third = await PullAsync(http, $"?ack={Ms(3) - 1}&max=2");
        Assert.Equal([Ms(3), Ms(4)], third.Samples.Select(s => s.Time.ToUnixTimeMilliseconds()));
        Assert.Equal(3, _spool.Count);

        // Acking everything empties the spool; the answer is an empty batch.
        var last = await PullAsync(http, $"?ack={Ms(5)}");
        Assert.Empty(last.Samples);
        Assert.Equal(0, _spool.Count);
        Assert.Equal(0, last.DroppedTotal);
    }

    [Fact]
    public async Task Answers_heartbeats_caps_max_and_names_bad_requests()
    {
        using var control = _ca.IssueLeaf(AgentApi.ControlPlaneCommonName, CaChain.ClientAuthOid);
        using var http = Client(control);

        var one = JsonSerializer.Deserialize(await http.GetStringAsync(AgentApi.PullHeartbeat), ContractsJson.Default.Heartbeat)!;
        var two = JsonSerializer.Deserialize(await http.GetStringAsync(AgentApi.PullHeartbeat), ContractsJson.Default.Heartbeat)!;
        Assert.Equal(ServerId, one.ServerId);
        Assert.Equal(one.BootId, two.BootId);
        Assert.Equal(one.Sequence + 1, two.Sequence);
        Assert.False(one.Stopping);

        for (var i = 0; i < 1005; i++)
        {
            _spool.Append(Sample(i));
        }

        Assert.Equal(AgentApi.PullMaxCap, (await PullAsync(http, "?max=5000")).Samples.Count);
        Assert.Equal(AgentApi.PullDefaultMax, (await PullAsync(http, string.Empty)).Samples.Count);

        foreach (var (target, status) in new[]
        {
            ($"{AgentApi.PullSamples}?ack=-1", HttpStatusCode.BadRequest),
            ($"{AgentApi.PullSamples}?max=0", HttpStatusCode.BadRequest),
            ($"{AgentApi.PullSamples}?ack=soon", HttpStatusCode.BadRequest),
            ("/metrics", HttpStatusCode.NotFound),
        })
        {
            using var response = await http.GetAsync(target);
            Assert.Equal(status, response.StatusCode);
        }

        using var post = await http.PostAsync(AgentApi.PullSamples, null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(1005, _spool.Count);
    }

    [Fact]
    public async Task Presents_the_current_certificate_after_a_renewal()
    {
        using var control = _ca.IssueLeaf(AgentApi.ControlPlaneCommonName, CaChain.ClientAuthOid);
        var seen = new List<string>();
        using var handler = Handler(control, seen);
        using (var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = BaseAddress })
        {
            await http.GetStringAsync(AgentApi.PullHeartbeat);
        }

        var old = _agentCertificate;
        _agentCertificate = _ca.IssueLeaf(ServerId, CaChain.ServerAuthOid, CaChain.ClientAuthOid);
        old.Dispose();
        using (var handler2 = Handler(control, seen))
        using (var http = new HttpClient(handler2) { BaseAddress = BaseAddress })
        {
            await http.GetStringAsync(AgentApi.PullHeartbeat);
        }

        Assert.Equal(2, seen.Distinct().Count());
        Assert.Equal(_agentCertificate.Thumbprint, seen[^1]);
    }

    [Fact]
    public async Task An_address_in_use_is_logged_and_the_agent_runs_on()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        using var second = new PullEndpoint(
            (IPEndPoint)blocker.LocalEndpoint,
            _spool,
            new AgentInfo(TimeProvider.System),
            new AgentRuntimeSettings(new AgentSettings(ServerId, "pull-1", "https://127.0.0.1:1", 30), new StateDirectory(_temp.Combine("state"))),
            new CaTrust([_ca.Certificate]),
            () => _agentCertificate,
            TimeProvider.System,
            _loggers.CreateLogger<PullEndpoint>());
        await second.StartAsync(CancellationToken.None);
        Assert.Null(second.LocalEndpoint);
        Assert.Contains(_logs.Lines, l => l.Contains("Pull endpoint cannot listen", StringComparison.Ordinal));
        await second.StopAsync(CancellationToken.None);
    }

    private Uri BaseAddress => new($"https://{_endpoint.LocalEndpoint}");

    private HttpClient Client(X509Certificate2? client) => new(Handler(client, null)) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(20) };

    private SocketsHttpHandler Handler(X509Certificate2? client, List<string>? seen)
    {
        var handler = new SocketsHttpHandler();
        if (client is not null)
        {
            handler.SslOptions.ClientCertificates = [client];
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var leaf = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            seen?.Add(leaf.Thumbprint);
            return CaChain.CheckAgentServer(leaf, _ca.Certificate, ServerId) is null;
        };
        return handler;
    }

    private static async Task<MetricsBatch> PullAsync(HttpClient http, string query) =>
        JsonSerializer.Deserialize(await http.GetStringAsync(AgentApi.PullSamples + query), ContractsJson.Default.MetricsBatch)!;

    private static long Ms(int i) => T0.AddSeconds(i).ToUnixTimeMilliseconds();

    private static SystemSample Sample(int i) => new(T0.AddSeconds(i), new Dictionary<string, double> { [SystemMetricNames.Load1] = 0.5, ["index"] = i });
}
