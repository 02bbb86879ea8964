using System.Globalization;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>How one <c>knotc</c> call ended: its exit code and output.</summary>
internal sealed record KnotcResult(int ExitCode, string Output)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>
/// Runs <c>knotc -c CONF …</c> for the agent's DNS service through its runtime (<see cref="IServiceRuntime.RunToolAsync"/>:
/// the host's knotc, or the container's). knotd 3.2 serves one control connection at a time, so calls go one at a
/// time (a semaphore) and each is bounded (<c>knotc -t</c> and a kill after the timeout): keep them short.
/// <c>dns.apply</c> reloads through it; DNS monitoring reads <c>knotc stats</c> through <see cref="RunAsync"/>.
/// </summary>
internal sealed class KnotControl(ServiceManager manager)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// <c>knotc -c LIVE_CONF ARGS</c> (e.g. <c>["stats"]</c>, <c>["-b", "zone-reload", "example.test"]</c>). Waits for
    /// the control connection at most <paramref name="timeout"/>, then runs for at most <paramref name="timeout"/>.
    /// Throws <see cref="ServiceRuntimeException"/> when no DNS service is installed, when the connection stays
    /// busy, or when knotc does not finish in time.
    /// </summary>
    public Task<KnotcResult> RunAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunWithConfAsync(Engines.KnotEngine.LayoutIn(manager.ServicesRoot).ConfigFile, args, timeout, cancellationToken);

    /// <summary><see cref="RunAsync"/> with another configuration file (a candidate's <c>conf-check</c>).</summary>
    public async Task<KnotcResult> RunWithConfAsync(string conf, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (manager.Status(ServiceKinds.Dns) is null || manager.Runtime is not { } runtime)
        {
            throw new ServiceRuntimeException("no DNS service is installed on this server");
        }

        if (!await _gate.WaitAsync(timeout, cancellationToken))
        {
            throw new ServiceRuntimeException($"knotc {string.Join(' ', args)}: another knotc call held the control connection for {timeout.TotalSeconds:0} s");
        }

        try
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            var result = await runtime.RunToolAsync(ServiceKinds.Dns, ["knotc", "-c", conf, "-t", seconds, .. args], timeout + TimeSpan.FromSeconds(2), cancellationToken);
            return new KnotcResult(result.ExitCode, result.Output);
        }
        finally
        {
            _gate.Release();
        }
    }
}
