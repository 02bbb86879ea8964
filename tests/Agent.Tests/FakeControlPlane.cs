using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Tests;

/// <summary>A heartbeat as received, with the client certificate that authenticated it.</summary>
internal sealed record ReceivedHeartbeat(Heartbeat Heartbeat, string ClientThumbprint);

/// <summary>
/// A minimal control plane on 127.0.0.1 (HTTPS, port 0) implementing the agent endpoints. Enrolment
/// arrives without a client certificate on the same listener, so the listener allows certificates
/// (validated against the test CA) and the mTLS endpoints require one.
/// </summary>
internal sealed class FakeControlPlane : IAsyncDisposable
{
    public const string ServerId = "srv-0001";
    public const string ServerName = "dns-1";
    public const string Token = "enrol-token-123";
    public const string RevokedType = ManagedServers.Contracts.Agent.AgentApi.RevokedProblemType;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<AgentCommand> _deliveries = new();
    private int _failedHeartbeats;
    private int _inFlight;
    private int _maxInFlight;

    private FakeControlPlane(TestCa ca, WebApplication app)
    {
        Ca = ca;
        _app = app;
    }

    public TestCa Ca { get; }

    public string AgentUrl { get; private set; } = "";

    /// <summary>Lifetime of certificates issued by enroll and renew.</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromHours(1);

    public int EnrollIntervalSeconds { get; set; } = 2;

    public int AckIntervalSeconds { get; set; } = 1;

    public bool TokenExpired { get; set; }

    public bool Revoked { get; set; }

    /// <summary>When set, heartbeats are answered with this status (e.g. 503) after <see cref="HeartbeatDelay"/>.</summary>
    public int? HeartbeatFailureStatus { get; set; }

    public TimeSpan HeartbeatDelay { get; set; }

    public int FailedHeartbeats => Volatile.Read(ref _failedHeartbeats);

    /// <summary>Most heartbeat requests seen in flight at once.</summary>
    public int MaxHeartbeatsInFlight => Volatile.Read(ref _maxInFlight);

    public ConcurrentQueue<EnrollRequest> Enrollments { get; } = new();

    public ConcurrentQueue<ReceivedHeartbeat> Heartbeats { get; } = new();

    /// <summary>Heartbeats answered with agent-revoked.</summary>
    public ConcurrentQueue<Heartbeat> RefusedHeartbeats { get; } = new();

    public ConcurrentQueue<CommandResult> CommandResults { get; } = new();

    /// <summary>Thumbprint of the certificate presented on each renewal, and of the certificate issued.</summary>
    public ConcurrentQueue<(string Presented, string Issued)> Renewals { get; } = new();

    /// <summary>When set, renewal answers carry this as the CAs to trust (a control plane rotating its CA hands out two).</summary>
    public string? RenewalCaPem { get; set; }

    public ConcurrentQueue<string> RequestsWithoutProtocolHeader { get; } = new();

    /// <summary>Zone files served at <c>GET api/v1/agent/zones/{zone}/file?serial=N</c> (gzip); another serial answers 410.</summary>
    public ConcurrentDictionary<(string Zone, long Serial), byte[]> ZoneFiles { get; } = new();

    public static async Task<FakeControlPlane> StartAsync(TestCa ca, X509Certificate2? serverCertificate = null)
    {
        serverCertificate ??= ca.IssueServerCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCertificate,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (certificate, _, _) => ca.Validates(certificate),
        })));
        var app = builder.Build();
        var plane = new FakeControlPlane(ca, app);
        plane.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        plane.AgentUrl = $"https://127.0.0.1:{new Uri(address).Port}";
        return plane;
    }

    /// <summary>Queues <paramref name="command"/> for the next <paramref name="times"/> polls (a redelivery).</summary>
    public void Deliver(AgentCommand command, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _deliveries.Enqueue(command);
        }
    }

    public SetupBundle Bundle(string? caPem = null) =>
        new(1, ServerId, ServerName, AgentUrl, caPem ?? Ca.Pem, Token, DateTimeOffset.UtcNow.AddHours(1));

    /// <summary>Runs <c>enroll</c> (in process) with this control plane's setup bundle, written under <paramref name="temp"/>.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> EnrollAsync(TempDir temp, string stateDir)
    {
        var bundlePath = temp.Combine("bundle.json");
        await File.WriteAllTextAsync(bundlePath, JsonSerializer.Serialize(Bundle(), ContractsJson.Default.SetupBundle));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Enrollment.EnrollCommand.RunAsync(bundlePath, stateDir, stdout, stderr, TimeProvider.System, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static IResult Problem(int status, string type, string title, string detail) =>
        Results.Text(
            new JsonObject { ["type"] = type, ["title"] = title, ["status"] = status, ["detail"] = detail }.ToJsonString(),
            "application/problem+json",
            Encoding.UTF8,
            status);

    private static async Task<T> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted) ?? throw new InvalidOperationException("empty body");

    private CertificateResponse Issue(string csrPem)
    {
        var now = DateTimeOffset.UtcNow;
        var pem = Ca.SignClientCsr(csrPem, now.AddSeconds(-1), now.Add(CertificateLifetime));
        using var certificate = X509Certificate2.CreateFromPem(pem);
        return new CertificateResponse(ServerId, ServerName, pem, Ca.Pem, certificate.NotBefore, certificate.NotAfter, EnrollIntervalSeconds);
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers[AgentProtocol.VersionHeader] != "1")
            {
                RequestsWithoutProtocolHeader.Enqueue(context.Request.Path);
            }

            await next(context);
        });

        app.MapGet("/" + ManagedServers.Contracts.Agent.AgentApi.ZoneFileTemplate, (string zone, long serial) =>
            ZoneFiles.TryGetValue((zone, serial), out var gzip)
                ? Results.Bytes(gzip, "application/gzip")
                : Problem(410, "about:blank", "Gone", $"zone {zone} is no longer at serial {serial}"));

        app.MapPost("/api/v1/agent/enroll", async context =>
        {
            var request = await ReadAsync(context, ContractsJson.Default.EnrollRequest);
            Enrollments.Enqueue(request);
            IResult result = TokenExpired || request.Token != Token
                ? Problem(401, "https://managedservers.example/problems/enrollment-token", "Unauthorized", "enrolment token expired")
                : Results.Json(Issue(request.CsrPem), ContractsJson.Default.CertificateResponse);
            await result.ExecuteAsync(context);
        });

        app.MapPost("/api/v1/monitoring/heartbeat", async context =>
        {
            if (RequireClientCertificate(context) is not { } certificate)
            {
                return;
            }

            var heartbeat = await ReadAsync(context, ContractsJson.Default.Heartbeat);
            var inFlight = Interlocked.Increment(ref _inFlight);
            try
            {
                InterlockedMax(ref _maxInFlight, inFlight);
                if (HeartbeatDelay > TimeSpan.Zero)
                {
                    await Task.Delay(HeartbeatDelay, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }

            if (HeartbeatFailureStatus is { } failure && !heartbeat.Stopping)
            {
                Interlocked.Increment(ref _failedHeartbeats);
                context.Response.StatusCode = failure;
                return;
            }

            if (Revoked)
            {
                RefusedHeartbeats.Enqueue(heartbeat);
                await Problem(401, RevokedType, "Agent revoked", $"server {ServerId} was deleted").ExecuteAsync(context);
                return;
            }

            Heartbeats.Enqueue(new ReceivedHeartbeat(heartbeat, certificate.Thumbprint));
            await Results.Json(new HeartbeatAck(AckIntervalSeconds, DateTimeOffset.UtcNow), ContractsJson.Default.HeartbeatAck).ExecuteAsync(context);
        });

        app.MapGet("/api/v1/agent/commands", async context =>
        {
            if (RequireClientCertificate(context) is null)
            {
                return;
            }

            var wait = int.TryParse(context.Request.Query["wait_seconds"], out var w) ? w : 0;
            var deadline = DateTime.UtcNow.AddSeconds(wait);
            var batch = new List<AgentCommand>();
            while (!context.RequestAborted.IsCancellationRequested)
            {
                // One delivery of a given command per poll, so a redelivery arrives in a later poll.
                var seen = new HashSet<string>();
                while (_deliveries.TryPeek(out var next) && seen.Add(next.CommandId) && _deliveries.TryDequeue(out var command))
                {
                    batch.Add(command);
                }

                if (batch.Count > 0 || DateTime.UtcNow >= deadline)
                {
                    break;
                }

                try
                {
                    await Task.Delay(50, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await Results.Json(batch.ToArray(), ContractsJson.Default.AgentCommandArray).ExecuteAsync(context);
        });

        app.MapPost("/api/v1/agent/commands/{id}/result", async (HttpContext context, string id) =>
        {
            if (RequireClientCertificate(context) is null)
            {
                return;
            }

            var result = await ReadAsync(context, ContractsJson.Default.CommandResult);
            if (result.CommandId != id)
            {
                context.Response.StatusCode = 400;
                return;
            }

            CommandResults.Enqueue(result);
            context.Response.StatusCode = 204;
        });

        app.MapPost("/api/v1/agent/renew", async context =>
        {
            if (RequireClientCertificate(context) is not { } certificate)
            {
                return;
            }

            var request = await ReadAsync(context, ContractsJson.Default.RenewRequest);
            var response = Issue(request.CsrPem);
            if (RenewalCaPem is { } caPem)
            {
                response = response with { CaCertificatePem = caPem };
            }

            using var issued = X509Certificate2.CreateFromPem(response.CertificatePem);
            Renewals.Enqueue((certificate.Thumbprint, issued.Thumbprint));
            await Results.Json(response, ContractsJson.Default.CertificateResponse).ExecuteAsync(context);
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static X509Certificate2? RequireClientCertificate(HttpContext context)
    {
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null || certificate.GetNameInfo(X509NameType.SimpleName, false) != ServerId)
        {
            context.Response.StatusCode = 401;
            return null;
        }

        return certificate;
    }
}
