using ManagedServers.Silo.Storage;
using ManagedServers.Silo.Tests.E2E;
using Xunit;

namespace ManagedServers.Silo.Tests;

/// <summary>The data directory holds the database and the key that unseals the CA key: owner only, or the silo refuses to start.</summary>
public sealed class DataDirectoryTests : IDisposable
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _root = Directory.CreateTempSubdirectory("ms-datadir-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_missing_directory_is_created_owner_only_with_an_owner_only_database()
    {
        var dir = Path.Combine(_root, "a", "data");
        StorageConfig.Sqlite(dir);
        Assert.Equal(Owner, File.GetUnixFileMode(dir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, StorageConfig.SqliteFileName)));
        DataDirectory.Prepare(dir, allowShared: false); // and it passes the start check
    }

    [Fact]
    public void A_directory_open_to_others_is_refused_with_the_fix_unless_allowed()
    {
        var dir = Path.Combine(_root, "shared");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, Owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        var refused = Assert.Throws<InvalidOperationException>(() => DataDirectory.Prepare(dir, allowShared: false));
        Assert.Contains("mode 0755", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod 700 {dir}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--DataDir:AllowShared=true", refused.Message, StringComparison.Ordinal);

        DataDirectory.Prepare(dir, allowShared: true);
        File.SetUnixFileMode(dir, Owner);
        DataDirectory.Prepare(dir, allowShared: false);
    }

    [Fact]
    public async Task The_silo_does_not_start_on_a_directory_open_to_others()
    {
        var dir = Path.Combine(_root, "silo");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, Owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        using var silo = new ChildProcess(Build.SiloDll, ["--urls", $"http://127.0.0.1:{Build.FreePort()}", "--DataDir", dir]);
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the silo kept running");
        Assert.Contains("error: data directory", silo.Output, StringComparison.Ordinal);
        Assert.Contains("mode 0750", silo.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, StorageConfig.SqliteFileName)), "nothing is written before the check");
        Assert.False(File.Exists(Path.Combine(dir, "secret.key")), "nothing is written before the check");
    }
}
