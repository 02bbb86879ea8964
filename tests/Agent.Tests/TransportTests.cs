using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests;

/// <summary>The real agent code against an in-test Kestrel control plane over (m)TLS.</summary>
[Collection(nameof(TransportTests))]
public sealed class TransportTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Enrol_heartbeat_commands_and_stop()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = temp.Combine("state");

        var (code, stdout, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("enrolled as dns-1 (srv-0001)", stdout, StringComparison.Ordinal);

        var enrollment = Assert.Single(plane.Enrollments);
        Assert.Equal(FakeControlPlane.ServerId, enrollment.ServerId);
        Assert.Equal(FakeControlPlane.Token, enrollment.Token);
        Assert.Equal(AgentInfo.Version, enrollment.AgentVersion);
        Assert.True(File.Exists(Path.Combine(stateDir, "agent.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(stateDir, "key.pem")));
        Assert.Equal(StateDirectory.DirectoryMode, File.GetUnixFileMode(stateDir));
        var state = new StateDirectory(stateDir);
        Assert.Equal(new AgentSettings(FakeControlPlane.ServerId, FakeControlPlane.ServerName, plane.AgentUrl, 2), state.ReadSettings());

        var counting = new CommandStoreTests.CountingHandler();
        using var host = BuildHost(stateDir, b => b.Services.AddSingleton<ICommandHandler>(counting));
        await host.StartAsync();

        // Heartbeats: sequence rises by one, boot id stays, interval follows the ack (2 s -> 1 s).
        await Eventually.TrueAsync(() => plane.Heartbeats.Count >= 3, "three heartbeats");
        var beats = plane.Heartbeats.Select(h => h.Heartbeat).ToList();
        Assert.Equal(Enumerable.Range(1, beats.Count).Select(i => (long)i), beats.Select(b => b.Sequence));
        Assert.Single(beats.Select(b => b.BootId).Distinct());
        Assert.Equal(beats.Count, beats.Select(b => b.MessageId).Distinct().Count());
        Assert.All(beats, b => Assert.False(b.Stopping));
        Assert.All(beats, b => Assert.Equal(FakeControlPlane.ServerId, b.ServerId));
        Assert.Equal(AgentInfo.Version, beats[0].AgentVersion);
        await Eventually.TrueAsync(() => state.ReadSettings().HeartbeatIntervalSeconds == 1, "agent.json to take the acked interval");

        // Commands: ping delivered twice and a counting command delivered three times run once each.
        var now = DateTimeOffset.UtcNow;
        plane.Deliver(new AgentCommand("cmd-ping", CommandKinds.Ping, now, now.AddMinutes(5)), times: 2);
        plane.Deliver(new AgentCommand("cmd-count", "count", now, now.AddMinutes(5)), times: 3);
        plane.Deliver(new AgentCommand("cmd-what", "frobnicate", now, now.AddMinutes(5)));
        plane.Deliver(new AgentCommand("cmd-late", CommandKinds.Ping, now.AddMinutes(-10), now.AddMinutes(-5)));
        await Eventually.TrueAsync(() => plane.CommandResults.Count >= 7, "seven command results");

        var pings = plane.CommandResults.Where(r => r.CommandId == "cmd-ping").ToList();
        Assert.Equal(2, pings.Count);
        Assert.All(pings, r => Assert.True(r.Success));
        Assert.Equal(pings[0].CompletedAt, pings[1].CompletedAt);
        Assert.Equal(pings[0].Output!.Value.GetRawText(), pings[1].Output!.Value.GetRawText());
        var ping = pings[0].Output!.Value.Deserialize(ContractsJson.Default.PingOutput)!;
        Assert.Equal(AgentInfo.Version, ping.AgentVersion);
        Assert.Equal(3, plane.CommandResults.Count(r => r.CommandId == "cmd-count"));
        Assert.Equal(1, counting.Executions);
        Assert.Equal("unknown command kind 'frobnicate'", plane.CommandResults.Single(r => r.CommandId == "cmd-what").Error);
        Assert.Equal("expired", plane.CommandResults.Single(r => r.CommandId == "cmd-late").Error);
        Assert.True(File.Exists(state.CommandsFile));

        // Stop: a final heartbeat with Stopping = true from the same boot.
        var before = plane.Heartbeats.Count;
        await host.StopAsync();
        var last = plane.Heartbeats.Last().Heartbeat;
        Assert.True(last.Stopping);
        Assert.Equal(beats[0].BootId, last.BootId);
        Assert.True(plane.Heartbeats.Count > before);
        Assert.Equal(plane.Heartbeats.Max(h => h.Heartbeat.Sequence), last.Sequence);

        Assert.Empty(plane.RequestsWithoutProtocolHeader);
    }

    [Fact]
    public async Task Short_lived_certificate_is_renewed_and_used()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        plane.CertificateLifetime = TimeSpan.FromSeconds(6);
        plane.EnrollIntervalSeconds = 1;
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);
        var state = new StateDirectory(stateDir);
        string enrolledThumbprint;
        using (var enrolled = state.LoadCredentials())
        {
            enrolledThumbprint = enrolled.Thumbprint;
        }

        using var host = BuildHost(stateDir, renewalFraction: 0.5);
        await host.StartAsync();

        // Two renewals: the second is authenticated with the certificate the first one issued.
        await Eventually.TrueAsync(() => plane.Renewals.Count >= 2, "two renewals");
        var renewals = plane.Renewals.ToArray();
        Assert.Equal(enrolledThumbprint, renewals[0].Presented);
        Assert.Equal(renewals[0].Issued, renewals[1].Presented);

        // Heartbeats move to the renewed certificate.
        await Eventually.TrueAsync(() => plane.Heartbeats.Any(h => h.ClientThumbprint != enrolledThumbprint), "a heartbeat with a renewed certificate");

        // The state directory holds a matching renewed pair.
        await host.StopAsync();
        using var onDisk = state.LoadCredentials();
        Assert.NotEqual(enrolledThumbprint, onDisk.Thumbprint);
        Assert.Contains(onDisk.Thumbprint, plane.Renewals.Select(r => r.Issued));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state.KeyFile));
    }

    [Fact]
    public async Task A_renewal_during_a_ca_rotation_makes_the_agent_trust_both_cas_and_keeps_it_working()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        using var next = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        plane.CertificateLifetime = TimeSpan.FromSeconds(6);
        plane.EnrollIntervalSeconds = 1;
        plane.RenewalCaPem = ca.Pem + next.Pem;
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);
        var state = new StateDirectory(stateDir);
        Assert.Single(CaCount(state));

        using var host = BuildHost(stateDir, renewalFraction: 0.5);
        await host.StartAsync();
        await Eventually.TrueAsync(() => !plane.Renewals.IsEmpty, "a renewal");

        // ca.pem now holds both CAs, and the agent still talks to the control plane (its listener: the old CA).
        await Eventually.TrueAsync(() => CaCount(state).Count == 2, "ca.pem with both CAs");
        var beats = plane.Heartbeats.Count;
        await Eventually.TrueAsync(() => plane.Heartbeats.Count > beats + 1, "heartbeats after the renewal");
        await host.StopAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(state.CaFile));

        static X509Certificate2Collection CaCount(StateDirectory state)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(state.ReadCaPem());
            return roots;
        }
    }

    [Fact]
    public async Task Heartbeats_survive_server_errors_and_slow_answers_without_piling_up()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        plane.EnrollIntervalSeconds = 1;
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);

        // Answers slower than the interval, then server errors, then normal service again.
        plane.HeartbeatFailureStatus = 503;
        plane.HeartbeatDelay = TimeSpan.FromSeconds(2);
        using var host = BuildHost(stateDir);
        await host.StartAsync();
        await Eventually.TrueAsync(() => plane.FailedHeartbeats >= 2, "two failed heartbeats");
        plane.HeartbeatDelay = TimeSpan.Zero;
        plane.HeartbeatFailureStatus = null;
        await Eventually.TrueAsync(() => plane.Heartbeats.Count >= 2, "heartbeats accepted again");
        await host.StopAsync();

        Assert.Equal(1, plane.MaxHeartbeatsInFlight);
        var sequences = plane.Heartbeats.Select(h => h.Heartbeat.Sequence).ToList();
        Assert.True(sequences[0] > 2, "failed heartbeats used sequence numbers too");
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
    }

    [Fact]
    public async Task Revoked_agent_logs_once_and_exits_3()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        var stateDir = temp.Combine("state");
        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);
        Assert.True(code == 0, stderr);

        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(stateDir, b => b.Logging.AddProvider(logs));
        var exit = host.Services.GetRequiredService<AgentExit>();
        await host.StartAsync();
        await Eventually.TrueAsync(() => !plane.Heartbeats.IsEmpty, "a first heartbeat");

        plane.Revoked = true;
        await host.WaitForShutdownAsync().WaitAsync(Generous);

        Assert.Equal(3, exit.Code);
        var refusal = Assert.Single(logs.Lines, l => l.Contains("control plane refused this agent", StringComparison.Ordinal));
        Assert.Equal($"Error: control plane refused this agent: server {FakeControlPlane.ServerId} was deleted", refusal);
        var refused = Assert.Single(plane.RefusedHeartbeats); // no retries and no stopping heartbeat after the refusal
        Assert.False(refused.Stopping);
    }

    [Fact]
    public async Task Enrol_fails_when_the_server_certificate_is_not_from_the_bundle_ca()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create("Bundle CA");
        using var otherCa = TestCa.Create("Some other CA");
        await using var plane = await FakeControlPlane.StartAsync(ca, otherCa.IssueServerCertificate());
        var stateDir = temp.Combine("state");

        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);

        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("enroll failed: TLS handshake with 127.0.0.1:", line, StringComparison.Ordinal);
        Assert.Contains("not trusted by the control plane CA", line, StringComparison.Ordinal);
        Assert.Empty(plane.Enrollments);
        Assert.False(Directory.Exists(stateDir));
    }

    [Fact]
    public async Task Enrol_fails_when_the_server_certificate_lacks_the_ip_address()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca, ca.IssueServerCertificate(includeLoopbackIp: false));
        var stateDir = temp.Combine("state");

        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);

        Assert.Equal(1, code);
        Assert.Contains("is not valid for this host name or IP address", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(stateDir));
    }

    [Fact]
    public async Task Enrol_with_expired_token_shows_the_problem_detail()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var plane = await FakeControlPlane.StartAsync(ca);
        plane.TokenExpired = true;
        var stateDir = temp.Combine("state");

        var (code, _, stderr) = await plane.EnrollAsync(temp, stateDir);

        Assert.Equal(1, code);
        Assert.Equal("enroll failed: enrolment token expired (HTTP 401)", stderr.Trim());
        Assert.False(Directory.Exists(stateDir));
    }

    [Fact]
    public async Task Enrol_against_a_closed_port_says_connection_refused()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var bundle = new SetupBundle(1, "srv-1", "n", $"https://127.0.0.1:{port}", ca.Pem, "tok", DateTimeOffset.UtcNow.AddHours(1));
        var bundlePath = temp.Combine("bundle.json");
        await File.WriteAllTextAsync(bundlePath, JsonSerializer.Serialize(bundle, ContractsJson.Default.SetupBundle));
        var stderr = new StringWriter();

        var code = await EnrollCommand.RunAsync(bundlePath, temp.Combine("state"), new StringWriter(), stderr, TimeProvider.System, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Equal($"enroll failed: connection refused by 127.0.0.1:{port}", stderr.ToString().Trim());
        Assert.False(Directory.Exists(temp.Combine("state")));
    }

    private static IHost BuildHost(string stateDir, Action<HostApplicationBuilder>? configure = null, double renewalFraction = RenewalSchedule.DefaultFraction) =>
        AgentHost.Build(
            new AgentRunOptions { StateDir = stateDir, CommandWaitSeconds = 2, RenewalFraction = renewalFraction, MinimumLogLevel = LogLevel.Debug },
            configure);
}
