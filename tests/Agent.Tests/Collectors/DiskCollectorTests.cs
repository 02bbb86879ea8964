using System.Text;
using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class DiskCollectorTests
{
    private const string TabAndBackslash = "/mnt/tab\tand\\slash";

    private static readonly DiskStats Ext4 = new(4096, 1000, 400, 350, 6400, 1600);

    [Fact]
    public void Vm_reports_the_real_mounts_with_df_style_numbers()
    {
        var asked = new List<string>();
        var collector = new DiskCollector(ProcFixtures.Vm, path =>
        {
            asked.Add(path);
            return Ext4;
        });

        var values = ProcFixtures.Collect(collector);

        Assert.Equal(["/", "/boot/efi", "/var"], asked);
        Assert.Equal(15, values.Count);
        Assert.Equal(4096000, values["disk.total_bytes[/]"]);
        Assert.Equal(600 * 4096, values["disk.used_bytes[/]"]); // blocks - free incl. root reserve
        Assert.Equal(350 * 4096, values["disk.free_bytes[/]"]); // available to unprivileged users
        Assert.Equal(100.0 * 600 / 950, values["disk.used_percent[/]"], 9);
        Assert.Equal(75, values["disk.inodes_used_percent[/]"], 9);
        Assert.Equal(4096000, values[SystemMetricNames.PerMount(SystemMetricNames.DiskTotal, "/var")]);
    }

    [Fact]
    public void Busy_skips_pseudo_duplicate_container_and_empty_mounts_and_decodes_escapes()
    {
        var collector = new DiskCollector(ProcFixtures.Busy, path => path switch
        {
            "/boot" => new DiskStats(1024, 500, 250, 250, 0, 0), // no inode count (like btrfs)
            "/mnt/empty" => new DiskStats(4096, 0, 0, 0, 0, 0),
            "/mnt/broken" => throw new IOException("statvfs(/mnt/broken) failed: Input/output error"),
            _ => Ext4,
        });

        var mounts = collector.Mounts();
        Assert.Equal(
            [new("/", "ext4"), new("/boot", "xfs"), new("/srv/dns zones", "xfs"), new("/mnt/backup", "nfs4"), new(TabAndBackslash, "ext4"), new("/mnt/empty", "vfat"), new("/mnt/broken", "ext4")],
            mounts);

        var values = ProcFixtures.Collect(collector);

        var reported = values.Keys.Where(k => k.StartsWith("disk.total_bytes[", StringComparison.Ordinal)).ToList();
        Assert.Equal(["disk.total_bytes[/]", "disk.total_bytes[/boot]", "disk.total_bytes[/srv/dns zones]", "disk.total_bytes[/mnt/backup]", $"disk.total_bytes[{TabAndBackslash}]"], reported);
        Assert.Equal(500 * 1024, values["disk.total_bytes[/boot]"]);
        Assert.Equal(50, values["disk.used_percent[/boot]"]);
        Assert.False(values.ContainsKey("disk.inodes_used_percent[/boot]"));
        Assert.Equal(75, values["disk.inodes_used_percent[/srv/dns zones]"], 9);
        Assert.Equal((5 * 5) - 1, values.Count);
    }

    [Fact]
    public void The_number_of_mounts_is_bounded()
    {
        var values = ProcFixtures.Collect(new DiskCollector(ProcFixtures.Busy, _ => Ext4, maxMounts: 2));

        Assert.Equal(["/", "/boot"], values.Keys.Where(k => k.StartsWith("disk.total_bytes[", StringComparison.Ordinal)).Select(k => k[17..^1]));
    }

    [Fact]
    public void It_throws_only_when_no_mount_could_be_measured()
    {
        var collector = new DiskCollector(ProcFixtures.Vm, path => throw new IOException($"statvfs({path}) failed"));

        var error = Assert.Throws<IOException>(() => ProcFixtures.Collect(collector));
        Assert.Contains("statvfs(/) failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hanging_network_filesystem_is_skipped_until_its_call_returns()
    {
        using var release = new ManualResetEventSlim();
        var backupCalls = 0;
        var collector = new DiskCollector(
            ProcFixtures.Busy,
            path =>
            {
                if (path == "/mnt/backup")
                {
                    Interlocked.Increment(ref backupCalls);
                    release.Wait(TimeSpan.FromSeconds(30));
                }

                return Ext4;
            },
            statsTimeout: TimeSpan.FromSeconds(3)); // generous: the answering call of the third pass must start in time on a loaded machine

        var first = ProcFixtures.Collect(collector);
        var second = ProcFixtures.Collect(collector);

        Assert.False(first.ContainsKey("disk.total_bytes[/mnt/backup]"));
        Assert.True(first.ContainsKey("disk.total_bytes[/srv/dns zones]"));
        Assert.False(second.ContainsKey("disk.total_bytes[/mnt/backup]"));
        // The hanging call runs on the thread pool: on a loaded machine it may start only after the timeout.
        SpinWait.SpinUntil(() => Volatile.Read(ref backupCalls) >= 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1, Volatile.Read(ref backupCalls)); // not asked again while the first call hangs
        Assert.Equal(1, collector.HangingMounts);

        release.Set();
        SpinWait.SpinUntil(() => collector.HangingMounts == 0, TimeSpan.FromSeconds(30));
        var third = ProcFixtures.Collect(collector);
        Assert.True(third.ContainsKey("disk.total_bytes[/mnt/backup]"));
        Assert.Equal(2, Volatile.Read(ref backupCalls));
    }

    [Theory]
    [InlineData("overlay", "/", true)]
    [InlineData("overlay", "/var/lib/docker/overlay2/x/merged", false)]
    [InlineData("ext4", "/var/lib/docker", true)]
    [InlineData("ext4", "/var/lib/docker/volumes/v/_data", false)]
    [InlineData("ext4", "/devices", true)]
    [InlineData("ext4", "/dev/sdx", false)]
    [InlineData("zfs", "/tank", true)]
    [InlineData("squashfs", "/snap/core/1", false)]
    [InlineData("tmpfs", "/tmp", false)]
    [InlineData("fuse.lxcfs", "/var/lib/lxcfs", false)]
    public void Which_filesystems_count(string type, string path, bool real) => Assert.Equal(real, DiskCollector.IsReal(type, path));

    [Theory]
    [InlineData(@"/srv/a\040b", "/srv/a b")]
    [InlineData(@"/x\011y\012z\134w", "/x\ty\nz\\w")]
    [InlineData(@"/plain", "/plain")]
    [InlineData(@"/trailing\04", @"/trailing\04")]
    [InlineData(@"/not\999octal", @"/not\999octal")]
    [InlineData(@"/caf\303\251", "/café")]
    public void Mount_paths_are_unescaped(string field, string path) =>
        Assert.Equal(path, DiskCollector.Unescape(Encoding.UTF8.GetBytes(field)));

    [Fact]
    public void Statvfs_of_the_root_matches_DriveInfo()
    {
        var stats = StatVfs.Get("/");
        var drive = new DriveInfo("/");

        Assert.True(stats.Blocks > 0);
        Assert.True(stats.BlocksAvailable <= stats.BlocksFree && stats.BlocksFree <= stats.Blocks);
        Assert.Equal(drive.TotalSize, (long)(stats.Blocks * stats.FragmentSize));
        Assert.InRange((long)(stats.BlocksAvailable * stats.FragmentSize), drive.AvailableFreeSpace - (1L << 30), drive.AvailableFreeSpace + (1L << 30));
        Assert.Throws<IOException>(() => StatVfs.Get("/no/such/mount/point"));
    }
}
