using System.Text;

namespace ManagedServers.Agent.State;

/// <summary>
/// Writes a file so that readers see either the old or the new content, never a partial one:
/// the content goes to a temporary file in the same directory (created with the final mode),
/// is flushed to disk, and is then renamed over the target.
/// </summary>
internal static class AtomicFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerWriteAllRead = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Prefix of temporary files; readers and cleanup ignore files starting with it.</summary>
    public const string TempPrefix = ".tmp-";

    public static void WriteAllText(string path, string content, UnixFileMode mode) =>
        Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(content)), mode);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var bytes = content.ToArray();
        Write(path, stream => stream.Write(bytes), mode);
    }

    public static void Write(string path, Action<Stream> write, UnixFileMode mode)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"no directory in '{path}'", nameof(path));
        var temp = Path.Combine(dir, $"{TempPrefix}{Path.GetFileName(full)}-{Guid.NewGuid():N}");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            using (var stream = new FileStream(temp, options))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                // UnixCreateMode is filtered by the umask; set the exact mode before the file becomes visible.
                File.SetUnixFileMode(temp, mode);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Renames <paramref name="source"/> over <paramref name="destination"/> (atomic on one file system).</summary>
    public static void Replace(string source, string destination) => File.Move(source, destination, overwrite: true);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
