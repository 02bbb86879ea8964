using System.Text;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// A captured-output log that never grows past about twice <see cref="MaxBytes"/>: when the file reaches the bound it
/// becomes <c>FILE.1</c> (replacing the previous one) and writing starts again. Thread-safe.
/// </summary>
internal sealed class BoundedLogFile : IDisposable
{
    public const long DefaultMaxBytes = 1024 * 1024;

    private readonly Lock _lock = new();
    private FileStream _stream;

    public BoundedLogFile(string path, long maxBytes = DefaultMaxBytes)
    {
        Path = path;
        MaxBytes = maxBytes;
        _stream = Open(path);
    }

    public string Path { get; }

    public long MaxBytes { get; }

    public string PreviousPath => Path + ".1";

    public void Write(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (_stream.Length + bytes.Length > MaxBytes && _stream.Length > 0)
            {
                _stream.Dispose();
                File.Move(Path, PreviousPath, overwrite: true);
                _stream = Open(Path);
            }

            _stream.Write(bytes);
            _stream.Flush();
        }
    }

    public void WriteLine(string line) => Write(Encoding.UTF8.GetBytes(line + "\n"));

    public void Dispose()
    {
        lock (_lock)
        {
            _stream.Dispose();
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
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            parts.Insert(0, buffer);
            remaining -= take;
        }

        return Encoding.UTF8.GetString([.. parts.SelectMany(p => p)]);
    }

    private static FileStream Open(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete });
}
