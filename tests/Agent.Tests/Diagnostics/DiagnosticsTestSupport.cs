using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests.Diagnostics;

/// <summary>An inventory set up by the test.</summary>
internal sealed class FakeServiceInventory : IServiceInventory
{
    public string? RuntimeName { get; set; }

    public List<ServiceStatus> Services { get; } = [];

    public Dictionary<string, ServiceEndpoints> EndpointsByKind { get; } = [];

    public Dictionary<string, List<string>> ConfigFilesByKind { get; } = [];

    public Dictionary<string, string> Logs { get; } = [];

    public RuntimeHealth Health { get; set; } = new(true, "Docker Engine 27.0.0 (API 1.46)");

    public IReadOnlyList<ServiceStatus> Statuses() => Services;

    public IReadOnlyList<string> ConfigFiles(string kind) => ConfigFilesByKind.TryGetValue(kind, out var files) ? files : [];

    public ServiceEndpoints? Endpoints(string kind) => EndpointsByKind.GetValueOrDefault(kind);

    public List<DnsZoneSpec> Zones { get; } = [];

    public IReadOnlyList<DnsZoneSpec> DnsZones() => Zones;

    public Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken)
    {
        var log = Logs.GetValueOrDefault(kind, "");
        return Task.FromResult(log.Length > maxBytes ? log[^maxBytes..] : log);
    }

    public Task<RuntimeHealth> CheckRuntimeAsync(CancellationToken cancellationToken) => Task.FromResult(Health);

    public static ServiceStatus Running(string kind, string? listen = null) =>
        new(kind, ServiceStates.Running, DateTimeOffset.UtcNow.AddMinutes(-5), 0, "1.0", RuntimeNames.Exec, Listen: listen);
}

/// <summary>A process started by a test, killed (by its own handle) at dispose, with its output kept.</summary>
internal sealed class TestProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    public TestProcess(string file, string arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}

internal static class DiagnosticsTestSupport
{
    public const string KnotD = "/usr/sbin/knotd";
    public const string KeaDhcp4 = "/usr/sbin/kea-dhcp4";
    public const string KeaHooks = "/usr/lib/x86_64-linux-gnu/kea/hooks";

    /// <summary>A UDP and TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort() => Services.ServiceTestHost.FreePort();

    /// <summary>knotd on 127.0.0.1:<paramref name="port"/>, running in <paramref name="dir"/>, serving <paramref name="zones"/> (none: it refuses everything).</summary>
    public static TestProcess StartKnot(string dir, int port, params (string Zone, long Serial)[] zones)
    {
        var conf = Path.Combine(dir, "knot.conf");
        var text = new System.Text.StringBuilder($"""
            server:
                listen: 127.0.0.1@{port}
                rundir: {dir}
            database:
                storage: {dir}
            log:
              - target: stderr
                any: info

            """);
        if (zones.Length > 0)
        {
            text.Append("zone:\n");
            foreach (var (zone, serial) in zones)
            {
                File.WriteAllText(Path.Combine(dir, zone + ".zone"), $"""
                    $ORIGIN {zone}.
                    $TTL 300
                    @ SOA ns1 hostmaster {serial} 3600 600 86400 300
                    @ NS ns1
                    ns1 A 192.0.2.53

                    """);
                text.Append($"  - domain: {zone}\n    file: {Path.Combine(dir, zone + ".zone")}\n    zonefile-sync: -1\n    journal-content: none\n");
            }
        }

        File.WriteAllText(conf, text.ToString());
        return new TestProcess(KnotD, $"-c {conf}");
    }

    /// <summary>kea-dhcp4 on no interfaces, with a unix control socket, memfile leases and the lease/stat hooks, all in <paramref name="dir"/>.</summary>
    public static TestProcess StartKea(string dir, string socket)
    {
        var conf = Path.Combine(dir, "kea-dhcp4.conf");
        File.WriteAllText(conf, $$"""
            {"Dhcp4": {
              "interfaces-config": {"interfaces": []},
              "control-socket": {"socket-type": "unix", "socket-name": "{{socket}}"},
              "lease-database": {"type": "memfile", "name": "{{Path.Combine(dir, "leases4.csv")}}", "lfc-interval": 0},
              "hooks-libraries": [
                {"library": "{{KeaHooks}}/libdhcp_lease_cmds.so"},
                {"library": "{{KeaHooks}}/libdhcp_stat_cmds.so"}],
              "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "INFO"}]
            } }
            """);
        return new TestProcess(KeaDhcp4, $"-c {conf}", new Dictionary<string, string> { ["KEA_PIDFILE_DIR"] = dir, ["KEA_LOCKFILE_DIR"] = dir });
    }

    /// <summary>An enrolled state directory (agent.json, key, cert signed by <paramref name="ca"/> valid in the given window, ca.pem).</summary>
    public static StateDirectory EnrolledState(string path, TestCa ca, string agentUrl, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        var state = new StateDirectory(path);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={FakeControlPlane.ServerId}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var now = DateTimeOffset.UtcNow;
        var certificate = ca.SignClientCsr(csr, notBefore ?? now.AddMinutes(-1), notAfter ?? now.AddHours(1));
        state.WriteEnrollment(new AgentSettings(FakeControlPlane.ServerId, FakeControlPlane.ServerName, agentUrl, 30), key.ExportPkcs8PrivateKeyPem(), certificate, ca.Pem);
        return state;
    }

    public static AgentConnection Connection(StateDirectory state, string agentUrl) =>
        new(new Uri(agentUrl), CaTrust.FromPem(state.ReadCaPem(), state.CaFile), state.LoadCredentials(), TimeProvider.System);
}

/// <summary>An HTTPS server (test CA, client certificates allowed) whose every answer is 404 with a <c>Date</c> shifted by <see cref="Shift"/>.</summary>
internal sealed class ShiftedDateServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private ShiftedDateServer(WebApplication app)
    {
        _app = app;
    }

    public string Url { get; private set; } = "";

    public TimeSpan Shift { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<ShiftedDateServer> StartAsync(TestCa ca)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = ca.IssueServerCertificate(),
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (certificate, _, _) => ca.Validates(certificate),
        })));
        var app = builder.Build();
        var server = new ShiftedDateServer(app);
        app.Run(context =>
        {
            Interlocked.Increment(ref server._requests);
            context.Response.Headers.Date = (DateTimeOffset.UtcNow + server.Shift).ToString("R");
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Url = $"https://127.0.0.1:{new Uri(address).Port}";
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
