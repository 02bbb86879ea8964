using System.Globalization;
using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>Free space of the filesystem holding <paramref name="path"/>: warn below 10 %, fail below 5 % or 200 MiB.</summary>
internal sealed class DiskSpaceCheck(string label, string path, Func<string, DiskStats>? stats = null) : IDiagnosticCheck
{
    public const double WarnPercent = 10;
    public const double FailPercent = 5;
    public const long FailBytes = 200L * 1024 * 1024;

    public string Name => "disk " + label;

    public Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken)
    {
        var s = (stats ?? StatVfs.Get)(path);
        return Task.FromResult(Evaluate(s));
    }

    internal DiagnosticCheck Evaluate(DiskStats s)
    {
        if (s.Blocks == 0)
        {
            return Check.Pass(Name, $"{path}: filesystem reports no size");
        }

        var unit = (double)s.FragmentSize;
        var total = s.Blocks * unit;
        var free = Math.Min(s.BlocksAvailable, s.Blocks) * unit;
        var percent = 100 * free / total;
        var message = string.Create(CultureInfo.InvariantCulture, $"{path}: {Size(free)} free of {Size(total)} ({percent:0.#} %)");
        var hint = $"free space on the filesystem of {path}: remove old logs or unused images (docker image prune), or grow it";
        if (percent < FailPercent || free < FailBytes)
        {
            return Check.Fail(Name, message, hint);
        }

        return percent < WarnPercent ? Check.Warn(Name, message, hint) : Check.Pass(Name, message);
    }

    private static string Size(double bytes) =>
        bytes >= 1L << 30
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):0.#} GiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 20):0.#} MiB");
}
