using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Diagnostics;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging.Abstractions;
using static ManagedServers.Agent.Tests.Diagnostics.DiagnosticsTestSupport;

namespace ManagedServers.Agent.Tests.Diagnostics;

/// <summary>Each diagnostic check against real parts: knotd, kea-dhcp4, an HTTPS server, the filesystem.</summary>
public sealed class DiagnosticChecksTests
{
    private const string Server = "srv-0123456789abcdef";
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Dns_service_with_no_zones_pushed_says_so_and_a_port_with_nothing_fails()
    {
        using var temp = new TempDir();
        var port = FreePort();
        using var knot = StartKnot(temp.Path, port);
        var inventory = new FakeServiceInventory();
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dns));
        inventory.EndpointsByKind[ServiceKinds.Dns] = new ServiceEndpoints(new IPEndPoint(IPAddress.Any, port), null);
        var check = Assert.Single(new ServiceChecks(inventory, Server).Checks());

        DiagnosticCheck result = null!;
        await Eventually.TrueAsync(
            () =>
            {
                result = check.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
                return !result.Message.Contains("no DNS answer", StringComparison.Ordinal) || knot.HasExited;
            },
            "knotd to answer",
            Generous);
        Assert.True(result.Status == CheckStatuses.Warn, $"{result.Message}\n{knot.Output}");
        Assert.Equal("service dns", result.Name);
        Assert.Contains($"answering on 127.0.0.1:{port} (REFUSED in ", result.Message, StringComparison.Ordinal);
        Assert.Contains("no zones pushed yet", result.Message, StringComparison.Ordinal);
        Assert.Contains($"msctl servers push-zones {Server}", result.Hint, StringComparison.Ordinal);

        inventory.EndpointsByKind[ServiceKinds.Dns] = new ServiceEndpoints(new IPEndPoint(IPAddress.Loopback, FreePort()), null);
        var silent = await Assert.Single(new ServiceChecks(inventory, Server).Checks()).RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatuses.Fail, silent.Status);
        Assert.Contains("no DNS answer", silent.Message, StringComparison.Ordinal);
        Assert.NotNull(silent.Hint);
    }

    /// <summary>
    /// The zones the last dns.apply gave the service are probed (not the root): each answering its applied serial is
    /// listed with it, and each that does not is named with why (REFUSED: not served; another serial).
    /// </summary>
    [Fact]
    public async Task Dns_service_zones_are_probed_and_those_not_answering_their_serial_named()
    {
        using var temp = new TempDir();
        var port = FreePort();
        var served = Enumerable.Range(0, 24).Select(i => ($"z{i:00}.test", (long)(100 + i))).Append(("old.test", 3L)).ToArray();
        using var knot = StartKnot(temp.Path, port, served);
        var inventory = new FakeServiceInventory();
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dns));
        inventory.EndpointsByKind[ServiceKinds.Dns] = new ServiceEndpoints(new IPEndPoint(IPAddress.Any, port), null);
        inventory.Zones.AddRange(served.Take(24).Select(z => new DnsZoneSpec(z.Item1, z.Item2)));
        var check = Assert.Single(new ServiceChecks(inventory, Server).Checks());

        DiagnosticCheck result = null!;
        await Eventually.TrueAsync(
            () =>
            {
                result = check.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
                return result.Status == CheckStatuses.Pass || knot.HasExited;
            },
            "knotd to answer its zones",
            Generous);
        Assert.True(result.Status == CheckStatuses.Pass, $"{result.Message}\n{knot.Output}");
        Assert.StartsWith($"running; answering on 127.0.0.1:{port}: 24 of 24 zones answer with the serial applied (z00.test 100, z01.test 101, ", result.Message, StringComparison.Ordinal);
        Assert.Contains("z09.test 109 and 14 more)", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("REFUSED", result.Message, StringComparison.Ordinal);

        // A zone applied at serial 5 answers 3; one applied is not served at all.
        inventory.Zones.Add(new DnsZoneSpec("old.test", 5));
        inventory.Zones.Add(new DnsZoneSpec("missing.test", 1));
        var failing = await Assert.Single(new ServiceChecks(inventory, Server).Checks()).RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatuses.Fail, failing.Status);
        Assert.Contains("24 of 26 zones answer with the serial applied", failing.Message, StringComparison.Ordinal);
        Assert.Contains("2 do not: old.test (serial 3, applied 5), missing.test (REFUSED)", failing.Message, StringComparison.Ordinal);
        Assert.Contains($"msctl servers push-zones {Server} --full", failing.Hint, StringComparison.Ordinal);
        Assert.Contains($"msctl servers debug-bundle {Server}", failing.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kea_answering_status_get_passes_and_a_missing_socket_fails()
    {
        using var temp = new TempDir();
        var socket = temp.Combine("kea4.sock");
        using var kea = StartKea(temp.Path, socket);
        var inventory = new FakeServiceInventory();
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dhcp4));
        inventory.EndpointsByKind[ServiceKinds.Dhcp4] = new ServiceEndpoints(null, socket);
        var check = Assert.Single(new ServiceChecks(inventory, Server).Checks());

        DiagnosticCheck result = null!;
        await Eventually.TrueAsync(
            () =>
            {
                result = check.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
                return result.Status == CheckStatuses.Pass || kea.HasExited;
            },
            "kea to answer status-get",
            Generous);
        Assert.True(result.Status == CheckStatuses.Pass, $"{result.Message}\n{kea.Output}");
        Assert.Equal("service dhcp4", result.Name);

        inventory.EndpointsByKind[ServiceKinds.Dhcp4] = new ServiceEndpoints(null, temp.Combine("none.sock"));
        var missing = await Assert.Single(new ServiceChecks(inventory, Server).Checks()).RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatuses.Fail, missing.Status);
        Assert.Contains("control socket", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_states_and_no_services()
    {
        var inventory = new FakeServiceInventory();
        var none = Assert.Single(new ServiceChecks(inventory, Server).Checks());
        Assert.Equal(new DiagnosticCheck("services", CheckStatuses.Pass, "no services installed"), await none.RunAsync(CancellationToken.None));

        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dns) with { State = ServiceStates.Failed, Error = "exited with code 1", RestartCount = 3 });
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dhcp4) with { State = ServiceStates.Stopped });
        var results = await Task.WhenAll(new ServiceChecks(inventory, Server).Checks().Select(c => c.RunAsync(CancellationToken.None)));
        Assert.Equal(CheckStatuses.Fail, results[0].Status);
        Assert.Contains("exited with code 1", results[0].Message, StringComparison.Ordinal);
        Assert.Contains($"msctl servers debug-bundle {Server}", results[0].Hint, StringComparison.Ordinal);
        Assert.Equal(CheckStatuses.Warn, results[1].Status);
        Assert.Equal($"if it should run, start it: msctl services start {Server} dhcp4", results[1].Hint);

        // Hints name what a person types, never the agent's internal command names.
        inventory.Services.Clear();
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dns));
        inventory.Services.Add(FakeServiceInventory.Running(ServiceKinds.Dhcp4));
        var unknown = await Task.WhenAll(new ServiceChecks(inventory, Server).Checks().Select(c => c.RunAsync(CancellationToken.None)));
        Assert.Equal($"install it again so the agent records where it listens: msctl services add {Server} dns", unknown[0].Hint);
        Assert.Equal($"install it again so the agent records its control socket: msctl services add {Server} dhcp4", unknown[1].Hint);
        Assert.All(results.Concat(unknown), r => Assert.DoesNotMatch(@"service\.(start|install|restart)", r.Hint ?? string.Empty));
    }

    [Theory]
    [InlineData(1000, 500, CheckStatuses.Pass)] // 50 % of 4 GiB
    [InlineData(1000, 90, CheckStatuses.Warn)] // 9 %, 360 MiB
    [InlineData(1000, 40, CheckStatuses.Fail)] // 4 %
    [InlineData(100_000, 40, CheckStatuses.Fail)] // 0.04 % ...
    [InlineData(20, 8, CheckStatuses.Fail)] // 40 %, but only 32 MiB
    public void Disk_thresholds(ulong blocksMib4, ulong freeMib4, string expected)
    {
        // units of 4 MiB
        var stats = new DiskStats(4 * 1024 * 1024, blocksMib4, freeMib4, freeMib4, 0, 0);
        var result = new DiskSpaceCheck("/", "/", _ => stats).Evaluate(stats);
        Assert.Equal(expected, result.Status);
        Assert.Equal(expected == CheckStatuses.Pass, result.Hint is null);
    }

    [Fact]
    public async Task Disk_of_the_real_root_filesystem_is_measured()
    {
        var result = await new DiskSpaceCheck("/", "/").RunAsync(CancellationToken.None);
        Assert.Matches(@"^/: [\d.]+ [MG]iB free of [\d.]+ [MG]iB \([\d.]+ %\)$", result.Message);
    }

    [Fact]
    public async Task Clock_skew_against_a_shifted_date_header()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        await using var server = await ShiftedDateServer.StartAsync(ca);
        var state = EnrolledState(temp.Combine("state"), ca, server.Url);
        using var connection = Connection(state, server.Url);

        async Task<DiagnosticCheck> SkewAsync(TimeSpan shift)
        {
            server.Shift = shift;
            return await new ClockSkewCheck(new ControlPlaneProbe(connection, TimeProvider.System)).RunAsync(CancellationToken.None);
        }

        var none = await SkewAsync(TimeSpan.Zero);
        Assert.True(none.Status == CheckStatuses.Pass, none.Message);
        var ahead = await SkewAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CheckStatuses.Warn, ahead.Status);
        Assert.Contains("behind the control plane", ahead.Message, StringComparison.Ordinal);
        Assert.Contains("NTP", ahead.Hint, StringComparison.Ordinal);
        var far = await SkewAsync(TimeSpan.FromMinutes(-2));
        Assert.Equal(CheckStatuses.Fail, far.Status);
        Assert.Contains("ahead of the control plane", far.Message, StringComparison.Ordinal);
        Assert.True(server.Requests >= 3);

        var reach = await new ControlPlaneCheck(new ControlPlaneProbe(connection, TimeProvider.System)).RunAsync(CancellationToken.None);
        Assert.True(reach.Status == CheckStatuses.Pass, reach.Message);
        Assert.Contains("answered over mutual TLS", reach.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clock_skew_allows_for_the_one_second_date_resolution()
    {
        var check = new ClockSkewCheck(null!);
        var date = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

        // Server clock 12:00:00.999 shows 12:00:00; an agent 2.4 s ahead of the true time is not yet beyond 2 s + 0.5 s.
        Assert.Equal(CheckStatuses.Pass, check.Evaluate(date.AddSeconds(2.9), date, TimeSpan.FromMilliseconds(2)).Status);
        Assert.Equal(CheckStatuses.Warn, check.Evaluate(date.AddSeconds(3.1), date, TimeSpan.FromMilliseconds(2)).Status);
        Assert.Equal(CheckStatuses.Warn, check.Evaluate(date.AddSeconds(-29), date, TimeSpan.FromMilliseconds(2)).Status);
        Assert.Equal(CheckStatuses.Fail, check.Evaluate(date.AddSeconds(-31), date, TimeSpan.FromMilliseconds(2)).Status);
    }

    [Fact]
    public async Task Control_plane_down_fails_with_the_reason_and_skew_cannot_be_measured()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var url = $"https://127.0.0.1:{FreePort()}";
        var state = EnrolledState(temp.Combine("state"), ca, url);
        using var connection = Connection(state, url);
        var probe = new ControlPlaneProbe(connection, TimeProvider.System);

        var reach = await new ControlPlaneCheck(probe).RunAsync(CancellationToken.None);
        var skew = await new ClockSkewCheck(probe).RunAsync(CancellationToken.None);

        Assert.Equal(CheckStatuses.Fail, reach.Status);
        Assert.Equal($"connection refused by {new Uri(url).Authority}", reach.Message);
        Assert.NotNull(reach.Hint);
        Assert.Equal(new DiagnosticCheck("clock skew", CheckStatuses.Warn, "could not measure: control plane unreachable", "see the control plane check"), skew);
    }

    [Fact]
    public async Task Control_plane_with_another_ca_fails_on_tls()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        using var other = TestCa.Create("Other CA");
        await using var server = await ShiftedDateServer.StartAsync(other);
        var state = EnrolledState(temp.Combine("state"), ca, server.Url);
        using var connection = Connection(state, server.Url);

        var reach = await new ControlPlaneCheck(new ControlPlaneProbe(connection, TimeProvider.System)).RunAsync(CancellationToken.None);

        Assert.Equal(CheckStatuses.Fail, reach.Status);
        Assert.StartsWith("TLS handshake with 127.0.0.1:", reach.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_expiry()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var now = DateTimeOffset.UtcNow;
        var url = $"https://127.0.0.1:{FreePort()}";

        async Task<DiagnosticCheck> CheckAsync(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
        {
            var state = EnrolledState(temp.Combine(name), ca, url, notBefore, notAfter);
            using var connection = Connection(state, url);
            return await new CertificateCheck(connection, new RenewalSchedule(), TimeProvider.System).RunAsync(CancellationToken.None);
        }

        var fresh = await CheckAsync("fresh", now.AddDays(-1), now.AddDays(29));
        Assert.Equal(CheckStatuses.Pass, fresh.Status);
        Assert.Contains("renews automatically", fresh.Message, StringComparison.Ordinal);

        var low = await CheckAsync("low", now.AddDays(-9), now.AddDays(1)); // 10 % left, more than an hour
        Assert.Equal(CheckStatuses.Warn, low.Status);

        var nearly = await CheckAsync("nearly", now.AddHours(-23), now.AddMinutes(30)); // renewal overdue, 30 min left
        Assert.Equal(CheckStatuses.Fail, nearly.Status);
        Assert.Contains("renewal was due", nearly.Message, StringComparison.Ordinal);
        Assert.Contains("re-enrol", nearly.Hint, StringComparison.Ordinal);

        var expired = await CheckAsync("expired", now.AddDays(-2), now.AddMinutes(-5));
        Assert.Equal(CheckStatuses.Fail, expired.Status);
        Assert.StartsWith("expired at", expired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_not_used_over_https_and_unreachable_broker_fails()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        Assert.Equal(new DiagnosticCheck("broker", CheckStatuses.Pass, "not used (HTTPS transport)"), await new BrokerCheck(state).RunAsync(CancellationToken.None));

        var port = FreePort();
        state.WriteAmqp(new AmqpCredentials("127.0.0.1", port, "/", "agent-srv-0001", "broker-password-xyz", false, "p0001.srv-0001", "agent.srv-0001"));
        var result = await new BrokerCheck(state).RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatuses.Fail, result.Status);
        Assert.Contains($"127.0.0.1:{port}", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("broker-password-xyz", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docker_runtime_health()
    {
        var inventory = new FakeServiceInventory();
        Assert.Equal("not used (no services installed)", (await new RuntimeCheck(inventory).RunAsync(CancellationToken.None)).Message);
        inventory.RuntimeName = RuntimeNames.Exec;
        Assert.Equal("not used (exec runtime)", (await new RuntimeCheck(inventory).RunAsync(CancellationToken.None)).Message);
        inventory.RuntimeName = RuntimeNames.Docker;
        Assert.Equal(CheckStatuses.Pass, (await new RuntimeCheck(inventory).RunAsync(CancellationToken.None)).Status);
        inventory.Health = new RuntimeHealth(false, "cannot connect to /var/run/docker.sock: permission denied");
        var down = await new RuntimeCheck(inventory).RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatuses.Fail, down.Status);
        Assert.Contains("permission denied", down.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runner_reports_a_hanging_and_a_throwing_check_and_still_the_others_and_saves_the_report()
    {
        using var temp = new TempDir();
        var state = new StateDirectory(temp.Path);
        var checks = new IDiagnosticCheck[]
        {
            new LambdaCheck("hangs", async ct => { await Task.Delay(Timeout.Infinite, CancellationToken.None); return null!; }, TimeSpan.FromSeconds(1)),
            new LambdaCheck("blocks", _ => { Thread.Sleep(TimeSpan.FromSeconds(30)); return Task.FromResult(Check.Pass("blocks", "late")); }, TimeSpan.FromSeconds(1)),
            new LambdaCheck("throws", _ => throw new InvalidOperationException("boom")),
            new LambdaCheck("fine", _ => Task.FromResult(Check.Pass("fine", "ok"))),
        };
        var runner = new DiagnosticsRunner(checks, [new ServiceChecks(new FakeServiceInventory(), Server)], state, TimeProvider.System, NullLogger<DiagnosticsRunner>.Instance);

        var started = DateTime.UtcNow;
        var report = await runner.RunAsync(CancellationToken.None);

        // Liveness, not speed: a check that ignores its timeout (blocks 30 s, or hangs for ever) must not hold the report.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the runner waited for a check past its timeout");
        Assert.Equal(["hangs", "blocks", "throws", "fine", "services"], report.Checks.Select(c => c.Name));
        Assert.Equal(new[] { "fail", "fail", "fail", "pass", "pass" }, report.Checks.Select(c => c.Status));
        Assert.Equal("timed out after 1 s", report.Checks[0].Message);
        Assert.Equal("timed out after 1 s", report.Checks[1].Message);
        Assert.Equal("check failed: boom", report.Checks[2].Message);

        var saved = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(temp.Path, "diagnostics.json")), ContractsJson.Default.DiagnosticsReport)!;
        Assert.Equal(report.Checks, saved.Checks);
    }

    private sealed class LambdaCheck(string name, Func<CancellationToken, Task<DiagnosticCheck>> run, TimeSpan? timeout = null) : IDiagnosticCheck
    {
        public string Name => name;

        public TimeSpan Timeout => timeout ?? DiagnosticsRunner.DefaultTimeout;

        public Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken) => run(cancellationToken);
    }
}
