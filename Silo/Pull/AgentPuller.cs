using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Api.Endpoints;
using ManagedServers.Api.Pki;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ManagedServers.Silo.Pull;

/// <summary>Configuration section <c>Pull</c>.</summary>
public sealed class AgentPullerOptions
{
    /// <summary>The agents' pull port when the server record names none.</summary>
    public int DefaultPort { get; set; } = AgentApi.PullDefaultPort;

    /// <summary>Pull requests in flight at once on this silo; more wait (up to the timeout) for a slot.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>Bound on one request: connecting, TLS and the answer.</summary>
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>When one pull request started and ended (for diagnostics and the concurrency test).</summary>
public readonly record struct PullTiming(string ServerId, string Path, DateTimeOffset Started, DateTimeOffset Ended, bool Succeeded);

/// <summary>
/// The silo's <see cref="IAgentPuller"/>: one <see cref="HttpClient"/> for every agent, presenting the control plane's
/// client certificate (<see cref="CertificateIssuer.GetControlPlaneClientCertificateAsync"/>: CN
/// <see cref="AgentApi.ControlPlaneCommonName"/>, renewed in memory) and accepting an agent's certificate only when it
/// chains to our CA and its CN is the server id pulled (<c>CaChain.CheckAgentServer</c>). The request's Host
/// header (and so the TLS server name and the connection pool) is the server id: each server has its own pooled
/// connection, and the certificate check knows which server it checks. Requests are bounded per silo
/// (<see cref="AgentPullerOptions.MaxConcurrency"/>) and in time (<see cref="AgentPullerOptions.TimeoutSeconds"/>).
/// </summary>
public sealed class AgentPuller : IAgentPuller, IDisposable
{
    private const int TimingsKept = 4096;

    private readonly CertificateIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly AgentPullerOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<string, string> _refusals = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PullTiming> _timings = new();
    private X509Certificate2Collection? _cas;
    private X509Certificate2? _clientCertificate;
    private int _inFlight;
    private int _maxInFlight;

    public AgentPuller(CertificateIssuer issuer, IOptions<AgentPullerOptions> options, TimeProvider time)
    {
        _issuer = issuer;
        _time = time;
        _options = options.Value;
        _timeout = TimeSpan.FromSeconds(Math.Max(1, _options.TimeoutSeconds));
        _slots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrency));
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // picks up a renewed client certificate
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20), // below the agent's 30 s keep-alive
            MaxConnectionsPerServer = 2,
            MaxResponseHeadersLength = 16,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            AllowAutoRedirect = false,
        };
        handler.SslOptions.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        handler.SslOptions.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Volatile.Read(ref _clientCertificate)!;
        handler.SslOptions.RemoteCertificateValidationCallback = ValidateAgent;
        _http = new HttpClient(handler) { Timeout = _timeout, MaxResponseContentBufferSize = 64L * 1024 * 1024 };
    }

    public bool Available => true;

    /// <summary>Most pull requests that were in flight at once on this silo since it started.</summary>
    public int MaxConcurrentPulls => Volatile.Read(ref _maxInFlight);

    /// <summary>The latest pull requests (up to 4096), oldest first.</summary>
    public IReadOnlyList<PullTiming> RecentPulls() => [.. _timings];

    public async Task<MetricsBatch> PullSamplesAsync(PullTarget target, long ackMs, int max, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"{AgentApi.PullSamples}?ack={Math.Max(0, ackMs)}&max={max}");
        var batch = await GetAsync(target, path, ContractsJson.Default.MetricsBatch, cancellationToken);
        if (batch.ServerId != target.ServerId)
        {
            throw new InvalidDataException($"the agent answered samples of '{batch.ServerId}'");
        }

        if (batch.Samples is null || batch.Samples.Count > max)
        {
            throw new InvalidDataException($"the agent answered {batch.Samples?.Count.ToString(CultureInfo.InvariantCulture) ?? "no"} samples for max={max}");
        }

        if (batch.Samples.Any(s => s?.Values is null || s.Values.Count > AgentEndpoints.MaxMetricsPerSample))
        {
            throw new InvalidDataException($"the agent answered a sample without values or with more than {AgentEndpoints.MaxMetricsPerSample} metrics");
        }

        FleetMetrics.IngestReceived(AmqpTopology.MetricsKind, FleetMetrics.Pull);
        return batch;
    }

    public async Task<Heartbeat> PullHeartbeatAsync(PullTarget target, CancellationToken cancellationToken)
    {
        var heartbeat = await GetAsync(target, AgentApi.PullHeartbeat, ContractsJson.Default.Heartbeat, cancellationToken);
        if (heartbeat.ServerId != target.ServerId)
        {
            throw new InvalidDataException($"the agent answered a heartbeat of '{heartbeat.ServerId}'");
        }

        FleetMetrics.IngestReceived(AmqpTopology.HeartbeatKind, FleetMetrics.Pull);
        return heartbeat;
    }

    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }

    /// <summary>The URL of a path on a server's pull endpoint (IPv6 literals in brackets).</summary>
    internal Uri UriOf(PullTarget target, string pathAndQuery)
    {
        var host = target.Address.Trim();
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = $"[{host}]";
        }

        var port = target.Port ?? _options.DefaultPort;
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"https://{host}:{port}{pathAndQuery}"));
    }

    private async Task<T> GetAsync<T>(PullTarget target, string pathAndQuery, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await _slots.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no pull slot within {_timeout.TotalSeconds:0} s: {_options.MaxConcurrency} pulls are in flight on this silo (Pull:MaxConcurrency)");
        }

        var started = _time.GetUtcNow();
        var succeeded = false;
        var inFlight = Interlocked.Increment(ref _inFlight);
        UpdateMax(inFlight);
        try
        {
            await EnsureCredentialsAsync(timeout.Token);
            using var request = new HttpRequestMessage(HttpMethod.Get, UriOf(target, pathAndQuery));
            request.Headers.Host = target.ServerId; // TLS server name, connection pool and certificate check: this server
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                throw new HttpRequestException($"the agent answered {(int)response.StatusCode}: {Shorten(text)}", null, response.StatusCode);
            }

            var value = await response.Content.ReadFromJsonAsync(type, timeout.Token)
                ?? throw new InvalidDataException("the agent answered an empty document");
            succeeded = true;
            return value;
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException && _refusals.TryRemove(target.ServerId, out var why))
        {
            throw new HttpRequestException($"TLS with the agent failed: {why}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the agent at {UriOf(target, string.Empty)} did not answer within {_timeout.TotalSeconds:0} s");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"the agent's answer is not valid JSON: {e.Message}", e);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _slots.Release();
            Record(new PullTiming(target.ServerId, pathAndQuery, started, _time.GetUtcNow(), succeeded));
        }
    }

    private async Task EnsureCredentialsAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _cas, await _issuer.GetTrustedCasAsync()); // changes during a CA rotation
        Volatile.Write(ref _clientCertificate, await _issuer.GetControlPlaneClientCertificateAsync(cancellationToken));
    }

    private bool ValidateAgent(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var serverId = (sender as SslStream)?.TargetHostName ?? string.Empty;
        string? failure;
        if (certificate is null || Volatile.Read(ref _cas) is not { } cas)
        {
            failure = "the agent presented no certificate";
        }
        else
        {
            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            failure = CaChain.CheckAgentServer(leaf, cas, serverId, _time.GetUtcNow().UtcDateTime);
        }

        if (failure is not null)
        {
            _refusals[serverId] = failure;
        }

        return failure is null;
    }

    private void UpdateMax(int inFlight)
    {
        var max = Volatile.Read(ref _maxInFlight);
        while (inFlight > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxInFlight, inFlight, max);
            if (seen == max)
            {
                return;
            }

            max = seen;
        }
    }

    private void Record(PullTiming timing)
    {
        _timings.Enqueue(timing);
        while (_timings.Count > TimingsKept && _timings.TryDequeue(out _))
        {
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "…";
}

/// <summary>Registration of the silo's <see cref="AgentPuller"/>.</summary>
public static class PullSetup
{
    /// <summary>
    /// Makes this host pull pull-mode servers' agents: the <see cref="AgentPuller"/> (options from the <c>Pull</c>
    /// section) replaces the silo's <see cref="NoAgentPuller"/> default, so server grains resolve it.
    /// </summary>
    public static IServiceCollection AddAgentPuller(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AgentPullerOptions>(configuration.GetSection("Pull"));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CertificateIssuer>();
        services.TryAddSingleton<AgentPuller>();
        services.RemoveAll<IAgentPuller>();
        services.AddSingleton<IAgentPuller>(sp => sp.GetRequiredService<AgentPuller>());
        return services;
    }
}
