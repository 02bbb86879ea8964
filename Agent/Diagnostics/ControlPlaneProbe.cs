using System.Diagnostics;
using ManagedServers.Agent.Http;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// One HTTPS request to the control plane over the agent's mTLS connection, shared by the reachability and the
/// clock-skew checks: <c>GET {agent_url}/api/v1/agent</c>, a path with no route (the agent API has no side-effect-free
/// GET: the command poll may hand out commands), so any answer, usually 404, proves TLS and mTLS work and carries a
/// <c>Date</c> header. Concurrent callers share the request; a result is reused for <see cref="ReuseFor"/>.
/// </summary>
internal sealed class ControlPlaneProbe(AgentConnection connection, TimeProvider time)
{
    public const string ProbePath = "api/v1/agent";

    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(4);

    private static readonly TimeSpan ReuseFor = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private Task<ControlPlaneAnswer>? _last;
    private DateTimeOffset _lastStarted;

    public Uri Target => connection.Resolve(ProbePath);

    public Task<ControlPlaneAnswer> ProbeAsync(CancellationToken cancellationToken)
    {
        Task<ControlPlaneAnswer> task;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_last is null || (_last.IsCompleted && now - _lastStarted > ReuseFor))
            {
                _lastStarted = now;
                _last = RequestAsync();
            }

            task = _last;
        }

        return task.WaitAsync(cancellationToken);
    }

    private async Task<ControlPlaneAnswer> RequestAsync()
    {
        var uri = Target;
        using var cts = new CancellationTokenSource(RequestTimeout);
        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = await connection.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var elapsed = watch.Elapsed;
            return new ControlPlaneAnswer((int)response.StatusCode, response.Headers.Date, started + (elapsed / 2), elapsed, null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return new ControlPlaneAnswer(null, null, started, watch.Elapsed, TransportErrors.Describe(e, uri, connection.Trust));
        }
    }
}

/// <summary>
/// The probe's outcome: HTTP status and <c>Date</c> of the answer, the agent's clock at the middle of the request and
/// the round trip; or <see cref="Error"/> (one readable line) when no answer came.
/// </summary>
internal sealed record ControlPlaneAnswer(int? StatusCode, DateTimeOffset? ServerDate, DateTimeOffset LocalMidpoint, TimeSpan RoundTrip, string? Error);
