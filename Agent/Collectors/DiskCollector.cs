using System.Runtime.ExceptionServices;
using System.Text;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// Per-mount disk space and inodes (<c>disk.*[mount]</c>) for the real filesystems in
/// <c>{procRoot}/self/mounts</c> (or <c>{procRoot}/mounts</c>), in mount order:
/// <list type="bullet">
/// <item>pseudo and read-only image filesystems are skipped (<see cref="IsPseudo"/>); overlay only at <c>/</c>
/// (a container's root); mounts under /proc, /sys, /dev and container/runtime internals are skipped;</item>
/// <item>a device mounted twice (bind mounts, btrfs subvolumes) is reported at its first mount only;</item>
/// <item>filesystems of size 0 are skipped; at most <c>maxMounts</c> are reported.</item>
/// </list>
/// Sizes come from <c>stats</c> (default <see cref="StatVfs.Get"/>): total, used (total − free incl. the root
/// reserve), free = available to unprivileged users, used % as df computes it (used / (used + free)),
/// inodes used % (left out when the filesystem has no inode count). A network filesystem's stats call runs
/// with <c>statsTimeout</c>; a mount that does not answer is skipped until its call returns, so a hung NFS
/// server never blocks collection. A mount whose stats fail is skipped; the collector throws only when every
/// mount failed.
/// </summary>
internal sealed class DiskCollector : ISystemCollector
{
    public const int DefaultMaxMounts = 64;

    public static readonly TimeSpan DefaultStatsTimeout = TimeSpan.FromSeconds(5);

    private static readonly HashSet<string> PseudoTypes = new(StringComparer.Ordinal)
    {
        "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2", "autofs", "mqueue",
        "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs", "fusectl", "hugetlbfs", "binfmt_misc",
        "nsfs", "rpc_pipefs", "selinuxfs", "efivarfs", "squashfs", "erofs", "iso9660", "nfsd",
        "fuse.lxcfs", "fuse.snapfuse", "fuse.portal", "fuse.gvfsd-fuse", "fuse.rootlesskit",
    };

    private static readonly string[] NetworkTypePrefixes = ["nfs", "cifs", "smb", "ceph", "glusterfs", "9p", "afs", "lustre", "fuse.", "davfs", "gfs", "ocfs", "beegfs", "gpfs"];

    private static readonly string[] SkippedTrees = ["/proc", "/sys", "/dev", "/run/credentials", "/run/docker/netns", "/run/netns", "/snap"];

    private static readonly string[] SkippedBelow = ["/var/lib/docker/", "/var/lib/containers/storage/", "/var/lib/kubelet/pods/", "/run/containerd/"];

    private readonly string _procRoot;
    private readonly Func<string, DiskStats> _stats;
    private readonly int _maxMounts;
    private readonly TimeSpan _statsTimeout;
    private readonly Dictionary<string, Task<DiskStats>> _hanging = new(StringComparer.Ordinal);

    /// <param name="procRoot">procfs root, <c>/proc</c> by default.</param>
    /// <param name="stats">Stats of a mount point; throws when it cannot. Default <see cref="StatVfs.Get"/>.</param>
    /// <param name="maxMounts">Bound on the mounts reported.</param>
    /// <param name="statsTimeout">Wait for a network filesystem's stats.</param>
    public DiskCollector(string procRoot = UptimeCollector.DefaultProcRoot, Func<string, DiskStats>? stats = null, int maxMounts = DefaultMaxMounts, TimeSpan? statsTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMounts);
        _procRoot = procRoot;
        _stats = stats ?? StatVfs.Get;
        _maxMounts = maxMounts;
        _statsTimeout = statsTimeout ?? DefaultStatsTimeout;
    }

    public string Name => "disk";

    /// <summary>Mounts whose stats call has not returned yet (hung network filesystems).</summary>
    public int HangingMounts => _hanging.Count(h => !h.Value.IsCompleted);

    public void Collect(IDictionary<string, double> values)
    {
        var reported = 0;
        Exception? firstError = null;
        foreach (var mount in Mounts())
        {
            if (reported == _maxMounts)
            {
                break;
            }

            DiskStats stats;
            try
            {
                if (TryStats(mount, out stats) is false)
                {
                    continue;
                }
            }
            catch (Exception e)
            {
                firstError ??= e;
                continue;
            }

            if (stats.Blocks == 0)
            {
                continue;
            }

            var unit = (double)stats.FragmentSize;
            var total = stats.Blocks * unit;
            var free = Math.Min(stats.BlocksAvailable, stats.Blocks) * unit;
            var used = (stats.Blocks - Math.Min(stats.BlocksFree, stats.Blocks)) * unit;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskTotal, mount.Path)] = total;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskUsed, mount.Path)] = used;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskFree, mount.Path)] = free;
            values[SystemMetricNames.PerMount(SystemMetricNames.DiskUsedPercent, mount.Path)] = used + free > 0 ? 100 * used / (used + free) : 0;
            if (stats.Files > 0)
            {
                var inodesUsed = stats.Files - Math.Min(stats.FilesFree, stats.Files);
                values[SystemMetricNames.PerMount(SystemMetricNames.DiskInodesUsedPercent, mount.Path)] = 100.0 * inodesUsed / stats.Files;
            }

            reported++;
        }

        if (reported == 0 && firstError is not null)
        {
            throw new IOException($"no mount could be measured: {firstError.Message}", firstError);
        }
    }

    /// <summary>The mounts that would be measured, in order, before the size-0 and count bounds.</summary>
    internal List<MountEntry> Mounts()
    {
        var path = Path.Combine(_procRoot, "self", "mounts");
        using var reader = ProcLineReader.OpenIfExists(path) ?? ProcLineReader.Open(Path.Combine(_procRoot, "mounts"));
        var devices = new HashSet<string>(StringComparer.Ordinal);
        var mounts = new List<MountEntry>();
        while (reader.TryReadLine(out var line))
        {
            if (!ProcText.NextField(ref line, out var deviceField)
                || !ProcText.NextField(ref line, out var pathField)
                || !ProcText.NextField(ref line, out var typeField))
            {
                continue;
            }

            var type = Encoding.UTF8.GetString(typeField);
            var mountPath = Unescape(pathField);
            if (!IsReal(type, mountPath))
            {
                continue;
            }

            if (!devices.Add(Unescape(deviceField)))
            {
                continue; // the same filesystem again: a bind mount or another subvolume
            }

            mounts.Add(new MountEntry(mountPath, type));
        }

        return mounts;
    }

    /// <summary>Whether a filesystem type is never a disk worth reporting.</summary>
    internal static bool IsPseudo(string type) => PseudoTypes.Contains(type);

    internal static bool IsReal(string type, string mountPath)
    {
        if (IsPseudo(type) || (type == "overlay" && mountPath != "/"))
        {
            return false;
        }

        foreach (var tree in SkippedTrees)
        {
            if (mountPath == tree || (mountPath.StartsWith(tree, StringComparison.Ordinal) && mountPath.Length > tree.Length && mountPath[tree.Length] == '/'))
            {
                return false;
            }
        }

        foreach (var below in SkippedBelow)
        {
            if (mountPath.StartsWith(below, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Decodes the octal escapes of <c>/proc/mounts</c> (<c>\040</c> space, <c>\011</c> tab, <c>\012</c> newline, <c>\134</c> backslash).</summary>
    internal static string Unescape(ReadOnlySpan<byte> field)
    {
        if (field.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(field);
        }

        Span<byte> decoded = field.Length <= 256 ? stackalloc byte[field.Length] : new byte[field.Length];
        var length = 0;
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                decoded[length++] = (byte)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0'));
                i += 3;
            }
            else
            {
                decoded[length++] = field[i];
            }
        }

        return Encoding.UTF8.GetString(decoded[..length]);
    }

    private static bool IsOctal(ReadOnlySpan<byte> field, int at) =>
        at + 2 < field.Length && field[at] is >= (byte)'0' and <= (byte)'3' && field[at + 1] is >= (byte)'0' and <= (byte)'7' && field[at + 2] is >= (byte)'0' and <= (byte)'7';

    private static bool IsNetwork(string type)
    {
        foreach (var prefix in NetworkTypePrefixes)
        {
            if (type.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>False when the mount is still hanging from an earlier call or did not answer in time.</summary>
    private bool TryStats(MountEntry mount, out DiskStats stats)
    {
        stats = default;
        if (!IsNetwork(mount.Type))
        {
            stats = _stats(mount.Path);
            return true;
        }

        if (_hanging.TryGetValue(mount.Path, out var earlier))
        {
            if (!earlier.IsCompleted)
            {
                return false;
            }

            _hanging.Remove(mount.Path);
        }

        var call = Task.Factory.StartNew(() => _stats(mount.Path), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        bool completed;
        try
        {
            completed = call.Wait(_statsTimeout);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            throw;
        }

        if (!completed)
        {
            _hanging[mount.Path] = call;
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return false;
        }

        stats = call.Result;
        return true;
    }

    /// <summary>A mount to measure: its decoded path and filesystem type.</summary>
    internal readonly record struct MountEntry(string Path, string Type);
}
