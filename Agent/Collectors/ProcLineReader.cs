using System.Buffers;
using System.Globalization;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// Reads a procfs file line by line as UTF-8 byte spans, without a string or array per line: procfs files
/// report size 0 and can be large (<c>/proc/net/tcp</c> on a busy host), so the file is streamed through
/// one pooled buffer that grows only for a line longer than it. A span is valid until the next call.
/// </summary>
internal sealed class ProcLineReader : IDisposable
{
    private const int DefaultBufferSize = 16 * 1024;

    private readonly FileStream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;

    private ProcLineReader(FileStream stream, int bufferSize)
    {
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <summary>Opens <paramref name="path"/>; throws <see cref="FileNotFoundException"/> and the like when it cannot.</summary>
    public static ProcLineReader Open(string path, int bufferSize = DefaultBufferSize) =>
        // bufferSize 0: no FileStream buffer on top of ours.
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0), bufferSize);

    /// <summary>Opens <paramref name="path"/>, or returns null when it (or its directory) does not exist.</summary>
    public static ProcLineReader? OpenIfExists(string path, int bufferSize = DefaultBufferSize)
    {
        try
        {
            return Open(path, bufferSize);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The next line without its '\n'; false at the end of the file.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = pending[..newline];
                _start += newline + 1;
                return true;
            }

            if (_eof)
            {
                line = pending;
                _start = _end;
                return pending.Length > 0;
            }

            Fill();
        }
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        _stream.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Fill()
    {
        if (_start > 0)
        {
            // Move the partial line to the front.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
        }
        else
        {
            _end += read;
        }
    }
}

/// <summary>Whitespace-separated fields and numbers in procfs text (ASCII).</summary>
internal static class ProcText
{
    /// <summary>Takes the next field of <paramref name="rest"/> (spaces and tabs separate); false when none is left.</summary>
    public static bool NextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        var start = 0;
        while (start < rest.Length && IsBlank(rest[start]))
        {
            start++;
        }

        var end = start;
        while (end < rest.Length && !IsBlank(rest[end]))
        {
            end++;
        }

        field = rest[start..end];
        rest = rest[end..];
        return field.Length > 0;
    }

    public static ulong ParseUInt64(ReadOnlySpan<byte> text, string what) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{what}: '{Describe(text)}' is not a whole number");

    public static double ParseDouble(ReadOnlySpan<byte> text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{what}: '{Describe(text)}' is not a number");

    /// <summary>The text of a field for an error message (bounded, invalid bytes replaced).</summary>
    public static string Describe(ReadOnlySpan<byte> text) =>
        System.Text.Encoding.UTF8.GetString(text[..Math.Min(text.Length, 64)]);

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r';
}
