using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// One check per installed service (running and answering), or one "no services installed". Hints name the msctl
/// commands a person types, with this server's id (<paramref name="server"/>; msctl takes an id or a name).
/// </summary>
internal sealed class ServiceChecks(IServiceInventory inventory, string server) : IDiagnosticCheckSource
{
    public IEnumerable<IDiagnosticCheck> Checks()
    {
        var statuses = inventory.Statuses();
        if (statuses.Count == 0)
        {
            return [Check.Fixed(Check.Pass("services", "no services installed"))];
        }

        return statuses.Select(s => (IDiagnosticCheck)new ServiceCheck(s, inventory, server)).ToList();
    }
}

/// <summary>
/// A service runs (state from the inventory) and answers. DNS: every zone the last <c>dns.apply</c> gave it answers SOA
/// with the serial applied (probed in parallel, at most <see cref="ZoneParallelism"/> at once, within
/// <see cref="ZoneBudget"/>), or, with no zones applied, the server answers at all. Kea: <c>status-get</c>.
/// </summary>
internal sealed class ServiceCheck(ServiceStatus status, IServiceInventory inventory, string server) : IDiagnosticCheck
{
    /// <summary>Zone probes in flight at once.</summary>
    public const int ZoneParallelism = 16;

    /// <summary>Zones listed by name in a message (the rest are counted).</summary>
    public const int ListedZones = 10;

    /// <summary>No zone probe starts after this much time, so the check ends within its 5 s (zones left are "not checked").</summary>
    public static readonly TimeSpan ZoneBudget = TimeSpan.FromSeconds(3);

    /// <summary>How long one zone has to answer.</summary>
    public static readonly TimeSpan ZoneTimeout = TimeSpan.FromSeconds(1);

    public string Name => "service " + status.Kind;

    public async Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        switch (status.State)
        {
            case ServiceStates.Stopped:
                return Check.Warn(Name, $"{status.Kind} is stopped (on purpose, since {status.Since:u})", $"if it should run, start it: msctl services start {server} {status.Kind}");
            case ServiceStates.Failed:
                return Check.Fail(
                    Name,
                    $"{status.Kind} is not running: {status.Error ?? "failed"} ({status.RestartCount} restarts)",
                    $"the agent restarts it with backoff; its log says why (bad configuration, port in use): msctl servers debug-bundle {server}");
            case ServiceStates.Running:
                break;
            default:
                return Check.Warn(Name, $"{status.Kind} is in state '{status.State}'", null);
        }

        var endpoints = inventory.Endpoints(status.Kind);
        return status.Kind == ServiceKinds.Dns
            ? await DnsAsync(endpoints?.Dns, cancellationToken)
            : await KeaAsync(endpoints?.ControlSocket, cancellationToken);
    }

    private async Task<DiagnosticCheck> DnsAsync(IPEndPoint? listen, CancellationToken cancellationToken)
    {
        if (listen is null)
        {
            return Check.Fail(Name, "running, but its listen address is unknown", $"install it again so the agent records where it listens: msctl services add {server} dns");
        }

        var target = ToLocal(listen);
        var zones = inventory.DnsZones();
        if (zones.Count == 0)
        {
            var answer = await ServiceProbes.DnsAsync(target, cancellationToken);
            return answer.Ok
                ? Check.Warn(
                    Name,
                    $"running; answering on {target} ({ServiceProbes.Describe(answer)}); no zones pushed yet, so it serves nothing",
                    $"push the zones assigned to it: msctl servers push-zones {server} (assign them with msctl servers zones {server})")
                : NoAnswer(target, answer.Message);
        }

        var results = await ProbeZonesAsync(target, zones, cancellationToken);
        var good = results.Where(r => r.Outcome == ZoneOutcome.Answers).ToList();
        var bad = results.Where(r => r.Outcome is not (ZoneOutcome.Answers or ZoneOutcome.NotChecked)).ToList();
        var skipped = results.Count(r => r.Outcome == ZoneOutcome.NotChecked);
        if (good.Count == 0 && bad.Count > 0 && bad.All(r => r.Outcome == ZoneOutcome.NoAnswer))
        {
            return NoAnswer(target, bad[0].Detail);
        }

        var slowest = results.Where(r => r.Outcome != ZoneOutcome.NotChecked).Select(r => r.Latency).DefaultIfEmpty().Max();
        var answering = string.Create(CultureInfo.InvariantCulture, $"{good.Count} of {zones.Count} zone{(zones.Count == 1 ? string.Empty : "s")} answer{(good.Count == 1 ? "s" : string.Empty)} with the serial applied")
            + (good.Count == 0 ? string.Empty : $" ({List(good, r => string.Create(CultureInfo.InvariantCulture, $"{r.Zone} {r.Serial}"))})");
        var notChecked = skipped == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {skipped} not checked within {ZoneBudget.TotalSeconds:0} s");
        if (bad.Count == 0)
        {
            var message = string.Create(CultureInfo.InvariantCulture, $"running; answering on {target}: {answering}, slowest in {Check.Ms(slowest)}{notChecked}");
            return skipped == 0 ? Check.Pass(Name, message) : Check.Warn(Name, message, "knotd answers slowly: is the host overloaded?");
        }

        return Check.Fail(
            Name,
            $"running on {target}; {answering}; {bad.Count} do{(bad.Count == 1 ? "es" : string.Empty)} not: {List(bad, r => $"{r.Zone} ({r.Detail})")}{notChecked}",
            Hint(bad));
    }

    private DiagnosticCheck NoAnswer(IPEndPoint target, string detail) => Check.Fail(
        Name,
        $"running, but no DNS answer on {target} ({detail})",
        $"check that knotd listens on that address (its log: msctl servers debug-bundle {server}), and that no firewall drops local queries");

    /// <summary>What to do about the zones that do not answer as applied, by what went wrong.</summary>
    private string Hint(IReadOnlyList<ZoneResult> bad)
    {
        var hints = new List<string>();
        if (bad.Any(r => r.Outcome == ZoneOutcome.NotLoaded))
        {
            hints.Add($"a zone knotd refuses or fails (REFUSED, SERVFAIL) did not load: its log says why (msctl servers debug-bundle {server})");
        }

        if (bad.Any(r => r.Outcome == ZoneOutcome.OldSerial))
        {
            hints.Add("a zone answering another serial than the one applied was changed on the host or not reloaded");
        }

        if (bad.Any(r => r.Outcome == ZoneOutcome.NoAnswer))
        {
            hints.Add("a zone that does not answer in time points to an overloaded knotd");
        }

        hints.Add($"push the zones again: msctl servers push-zones {server} --full");
        return string.Join("; ", hints);
    }

    private static string List(IReadOnlyList<ZoneResult> zones, Func<ZoneResult, string> text) =>
        string.Join(", ", zones.Take(ListedZones).Select(text))
        + (zones.Count > ListedZones ? string.Create(CultureInfo.InvariantCulture, $" and {zones.Count - ListedZones} more") : string.Empty);

    /// <summary>Each zone's SOA from the agent's probe socket, <see cref="ZoneParallelism"/> at a time, none started past the budget.</summary>
    private static async Task<IReadOnlyList<ZoneResult>> ProbeZonesAsync(IPEndPoint target, IReadOnlyList<DnsZoneSpec> zones, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var results = new ConcurrentDictionary<int, ZoneResult>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, zones.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ZoneParallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var zone = zones[i];
                if (Stopwatch.GetElapsedTime(started) > ZoneBudget)
                {
                    results[i] = new ZoneResult(zone.Name, ZoneOutcome.NotChecked, null, "not checked", TimeSpan.Zero);
                    return;
                }

                var answer = await AgentDnsProbe.Shared.QuerySoaAsync(target, zone.Name, ZoneTimeout, token);
                results[i] = answer switch
                {
                    { Answered: false } => new ZoneResult(zone.Name, ZoneOutcome.NoAnswer, null, answer.Error ?? "no answer", answer.Latency),
                    { Serial: { } serial } when serial == zone.Serial => new ZoneResult(zone.Name, ZoneOutcome.Answers, serial, string.Empty, answer.Latency),
                    { Serial: { } serial } => new ZoneResult(zone.Name, ZoneOutcome.OldSerial, serial, string.Create(CultureInfo.InvariantCulture, $"serial {serial}, applied {zone.Serial}"), answer.Latency),
                    _ => new ZoneResult(zone.Name, ZoneOutcome.NotLoaded, null, answer.Rcode == 0 ? "NOERROR without a SOA" : answer.RcodeText, answer.Latency),
                };
            });
        return [.. Enumerable.Range(0, zones.Count).Select(i => results[i])];
    }

    private async Task<DiagnosticCheck> KeaAsync(string? socketPath, CancellationToken cancellationToken)
    {
        if (socketPath is null)
        {
            return Check.Fail(Name, "running, but its control socket is unknown", $"install it again so the agent records its control socket: msctl services add {server} {status.Kind}");
        }

        var answer = await ServiceProbes.KeaStatusAsync(socketPath, cancellationToken);
        return answer.Ok
            ? Check.Pass(Name, $"running; status-get answered on {socketPath} in {Check.Ms(answer.Latency)}")
            : Check.Fail(
                Name,
                $"running, but status-get on the control socket {socketPath} failed: {answer.Message}",
                $"check control-socket in the Kea configuration and that the socket file exists; read the Kea log (msctl servers debug-bundle {server}); restart it: msctl services restart {server} {status.Kind}");
    }

    /// <summary>A wildcard listen address is probed on the loopback address of its family.</summary>
    private static IPEndPoint ToLocal(IPEndPoint listen) =>
        listen.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, listen.Port)
        : listen.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, listen.Port)
        : listen;

    private enum ZoneOutcome
    {
        Answers,
        OldSerial,
        NotLoaded,
        NoAnswer,
        NotChecked,
    }

    private sealed record ZoneResult(string Zone, ZoneOutcome Outcome, long? Serial, string Detail, TimeSpan Latency);
}
