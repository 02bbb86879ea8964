using System.Globalization;
using System.Text;
using System.Threading.Channels;
using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// The agent log file <c>STATE_DIR/logs/agent.log</c>, bounded: when it would pass <see cref="MaxFileBytes"/> it is
/// renamed to <c>agent.log.1</c> (replacing the previous one), so at most <see cref="Files"/> files are kept. Written
/// by one background task from a bounded queue: logging never blocks the caller; when the queue is full the entry is
/// dropped and counted, and the count is written to the file once there is room again. Own provider rather than
/// Serilog: no extra dependency (Serilog needs three packages) for one bounded file.
/// </summary>
internal sealed class RollingFileLoggerProvider : ILoggerProvider
{
    public const string DirectoryName = "logs";
    public const string FileName = "agent.log";
    public const long DefaultMaxFileBytes = 1024 * 1024;
    public const int DefaultFiles = 2;
    public const int DefaultQueueCapacity = 10_000;

    private readonly Channel<string> _queue;
    private readonly Task _writer;
    private long _dropped;
    private long _reportedDropped;

    public RollingFileLoggerProvider(string directory, long maxFileBytes = DefaultMaxFileBytes, int files = DefaultFiles, int queueCapacity = DefaultQueueCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFileBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(files, 1);
        Directory = directory;
        MaxFileBytes = maxFileBytes;
        Files = files;
        _queue = Channel.CreateBounded<string>(
            new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _writer = Task.Factory.StartNew(WriteLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public string Directory { get; }

    public string CurrentFile => Path.Combine(Directory, FileName);

    public long MaxFileBytes { get; }

    public int Files { get; }

    /// <summary>Entries dropped because the queue was full or the file could not be written.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Path of the n-th file: 0 = <c>agent.log</c>, 1 = <c>agent.log.1</c>, …</summary>
    public static string FilePath(string directory, int index) =>
        Path.Combine(directory, index == 0 ? FileName : FileName + "." + index.ToString(CultureInfo.InvariantCulture));

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    /// <summary>Writes what is queued (bounded wait) and closes the file.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(2));
    }

    /// <summary>Completes when everything queued so far is written (tests).</summary>
    internal async Task FlushAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_queue.Reader.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Task.Delay(50);
    }

    private void Enqueue(string line) => _queue.Writer.TryWrite(line);

    private async Task WriteLoopAsync()
    {
        FileStream? stream = null;
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (_queue.Reader.TryRead(out var line))
                {
                    var dropped = Interlocked.Read(ref _dropped);
                    if (dropped != _reportedDropped)
                    {
                        var note = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff} warn: {typeof(RollingFileLoggerProvider).FullName}: {dropped - _reportedDropped} log entries dropped (queue full or file not writable)\n");
                        _reportedDropped = dropped;
                        stream = Write(stream, note);
                    }

                    stream = Write(stream, line);
                }

                stream?.Flush();
            }
        }
        finally
        {
            stream?.Dispose();
        }
    }

    private FileStream? Write(FileStream? stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        try
        {
            stream ??= Open();
            if (stream.Length > 0 && stream.Length + bytes.Length > MaxFileBytes)
            {
                stream.Dispose();
                stream = null;
                Roll();
                stream = Open();
            }

            stream.Write(bytes);
            return stream;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _dropped);
            _reportedDropped++; // this one cannot be reported in the file either
            stream?.Dispose();
            return null;
        }
    }

    private FileStream Open()
    {
        StateDirectory.CreatePrivate(Directory);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = AtomicFile.OwnerOnly;
        }

        return new FileStream(CurrentFile, options);
    }

    private void Roll()
    {
        for (var i = Files - 1; i >= 1; i--)
        {
            var from = FilePath(Directory, i - 1);
            if (File.Exists(from))
            {
                File.Move(from, FilePath(Directory, i), overwrite: true);
            }
        }

        if (Files == 1)
        {
            File.Delete(CurrentFile);
        }
    }

    private sealed class FileLogger(RollingFileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = new StringBuilder(256)
                .Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))
                .Append(' ')
                .Append(Level(logLevel))
                .Append(": ")
                .Append(category)
                .Append('[')
                .Append(eventId.Id.ToString(CultureInfo.InvariantCulture))
                .Append("] ")
                .Append(formatter(state, exception).ReplaceLineEndings(" "));
            if (exception is not null)
            {
                line.Append(" | ").Append(exception.ToString().ReplaceLineEndings(" | "));
            }

            owner.Enqueue(line.Append('\n').ToString());
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
