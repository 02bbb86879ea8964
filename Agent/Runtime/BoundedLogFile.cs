using System.Text;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// A service's output file, written by the daemon itself (its stdout and stderr are the file, opened for appending),
/// kept near <see cref="DefaultMaxBytes"/> by the agent: past the bound it is copied to <c>FILE.1</c> (replacing the
/// previous one) and truncated in place, so the daemon goes on writing at its start ("copytruncate": what the daemon
/// writes between the copy and the truncation is lost).
/// </summary>
internal static class BoundedLogFile
{
    public const long DefaultMaxBytes = 1024 * 1024;

    /// <summary>Appends a line of the agent's own (e.g. "agent started …") to the file.</summary>
    public static void AppendLine(string path, string line)
    {
        using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete });
        stream.Write(Encoding.UTF8.GetBytes(line + "\n"));
    }

    /// <summary>Rotates <paramref name="path"/> when it has grown past <paramref name="maxBytes"/>; true when it did.</summary>
    public static bool RotateIfLarge(string path, long maxBytes = DefaultMaxBytes)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length <= maxBytes)
            {
                return false;
            }

            File.Copy(path, path + ".1", overwrite: true);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            stream.SetLength(0);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // tried again at the next pass
        }
    }

    /// <summary>The last <paramref name="maxBytes"/> bytes of <paramref name="path"/> and its rotated predecessor.</summary>
    public static async Task<string> ReadTailAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        var parts = new List<byte[]>();
        var remaining = (long)maxBytes;
        foreach (var file in new[] { path, path + ".1" })
        {
            if (remaining <= 0 || !File.Exists(file))
            {
                continue;
            }

            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var take = (int)Math.Min(stream.Length, remaining);
            stream.Seek(-take, SeekOrigin.End);
            var buffer = new byte[take];
            var read = await stream.ReadAtLeastAsync(buffer, take, throwOnEndOfStream: false, cancellationToken); // truncated meanwhile: less
            parts.Insert(0, buffer[..read]);
            remaining -= read;
        }

        return Encoding.UTF8.GetString([.. parts.SelectMany(p => p)]);
    }
}
