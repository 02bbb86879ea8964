using System.Diagnostics;
using System.Text;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// <see cref="IKnotStatsReader"/> through the <c>knotc</c> binary on the control socket: <c>knotc stats</c>, then
/// <c>knotc zone-stats --</c> (every zone), one after the other (knotd 3.2 serves one control connection at a time).
/// </summary>
internal sealed class KnotcStatsReader(string controlSocket, string knotc = "knotc", TimeSpan? timeout = null) : IKnotStatsReader
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(10);

    public async Task<string> ReadAsync(CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        text.Append(await RunAsync(["-s", controlSocket, "-t", "5", "stats"], cancellationToken));
        text.Append('\n');
        text.Append(await RunAsync(["-s", controlSocket, "-t", "5", "zone-stats", "--"], cancellationToken));
        return text.ToString();
    }

    private async Task<string> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(knotc) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{knotc} did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"knotc {string.Join(' ', args)} did not answer within {_timeout.TotalSeconds:0} s");
        }

        var output = await stdout;
        var error = await stderr;
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"knotc {args[^1]} failed (exit {process.ExitCode}): {error.Trim()}");
    }
}

/// <summary>Finds the zone of a name: the longest zone that is the name or a parent of it (zones lower case, no final dot).</summary>
internal sealed class DnsZoneMatcher
{
    private readonly HashSet<string> _zones;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public DnsZoneMatcher(IEnumerable<string> zones)
    {
        _zones = new HashSet<string>(zones, StringComparer.Ordinal);
        _lookup = _zones.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The zone of <paramref name="name"/>, or null when no zone contains it.</summary>
    public string? Match(ReadOnlySpan<char> name)
    {
        var rest = name;
        while (true)
        {
            if (_lookup.TryGetValue(rest, out var zone))
            {
                return zone;
            }

            var dot = rest.IndexOf('.');
            if (dot < 0)
            {
                return _zones.Contains(".") ? "." : null;
            }

            rest = rest[(dot + 1)..];
        }
    }
}
