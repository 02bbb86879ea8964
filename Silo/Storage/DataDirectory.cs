namespace ManagedServers.Silo.Storage;

/// <summary>
/// The silo's data directory holds the embedded database (grain state, including the sealed CA key) and
/// <c>secret.key</c>, which unseals it: it must be readable by the silo's user only. A missing directory is created
/// 0700; the database file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
/// database file's mode). An existing directory that its group or others may enter stops the silo with a message
/// saying how to fix it, unless <c>DataDir:AllowShared=true</c> says the operator wants it so.
/// </summary>
public static class DataDirectory
{
    /// <summary>The configuration key that lets the silo start on a directory others can read.</summary>
    public const string AllowSharedKey = "DataDir:AllowShared";

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="dataDir"/> 0700 when missing; throws <see cref="InvalidOperationException"/> when it is open to others.</summary>
    public static void Prepare(string dataDir, bool allowShared)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        var path = Path.GetFullPath(dataDir);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOther) != 0 && !allowShared)
        {
            throw new InvalidOperationException(
                $"data directory {path} is open to its group or others (mode {Octal(mode)}); it holds the database and the key that unseals the CA key. " +
                $"Run 'chmod 700 {path}', or start with --{AllowSharedKey}=true to accept it");
        }
    }

    /// <summary>"0755" for a mode.</summary>
    public static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}
