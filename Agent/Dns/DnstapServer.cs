using System.Buffers.Binary;
using System.Net.Sockets;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// The agent's dnstap sink: a unix stream socket knotd's mod-dnstap connects to (<c>sink: "unix:PATH"</c>). It speaks
/// the bidirectional Frame Streams handshake and counts, per connection, the hits of each question name of the
/// responses knotd logs. Knot writes frames from its workers into a bounded queue and drops them when this reader
/// falls behind, so the read path is lean: 256 KiB receives, frames parsed in place, names counted by span.
/// </summary>
/// <remarks>
/// The socket file is created before knotd starts (the agent starts this server when the DNS service exists) and is
/// made 0666: knotd running as the agent's user (exec) or as root in a container that bind-mounts the service
/// directory can connect (the run directory itself stays private to its owner and root).
/// </remarks>
internal sealed partial class DnstapServer : IAsyncDisposable
{
    public const int DefaultMaxNamesPerConnection = 200_000;
    private const int BufferSize = 256 * 1024;
    private const int SmallRead = 16 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<DnsHitCounter> _counters = [];
    private readonly List<DnsHitCounter> _closed = [];
    private readonly List<Socket> _sockets = [];
    private readonly int _maxNames;
    private readonly ILogger _logger;
    private readonly Task _acceptLoop;
    private long _connections;

    private DnstapServer(string path, Socket listener, int maxNames, ILogger logger)
    {
        Path = path;
        _listener = listener;
        _maxNames = maxNames;
        _logger = logger;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public string Path { get; }

    /// <summary>Connections accepted since start.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Creates the socket at <paramref name="path"/> (replacing a stale one) and starts accepting.</summary>
    public static DnstapServer Start(string path, ILogger logger, int maxNamesPerConnection = DefaultMaxNamesPerConnection)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            }

            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new DnstapServer(path, listener, maxNamesPerConnection, logger);
    }

    /// <summary>The counts of every connection since the last call, merged; the counting goes on in fresh tables.</summary>
    public DnsHitSnapshot Snapshot()
    {
        DnsHitCounter[] counters;
        lock (_lock)
        {
            counters = [.. _counters, .. _closed];
            _closed.Clear();
        }

        if (counters.Length == 1)
        {
            return counters[0].Swap(); // the usual case (one knotd connection): no merge copy
        }

        var total = new DnsHitSnapshot();
        foreach (var counter in counters)
        {
            total.Add(counter.Swap());
        }

        return total;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (!_stop.IsCancellationRequested && e is SocketException se)
                {
                    LogAcceptFailed(_logger, Path, se.Message);
                    await Task.Delay(100);
                    continue;
                }

                return;
            }

            Interlocked.Increment(ref _connections);
            var counter = new DnsHitCounter(_maxNames);
            lock (_lock)
            {
                _counters.Add(counter);
            }

            // One dedicated thread per connection with blocking receives: no thread-pool hop between a receive and
            // the next, so the reader is not queued behind other work when the host is busy (Knot drops what waits).
            // A deep receive buffer absorbs bursts while this thread waits for a core (fewer frames dropped by Knot).
            TrySetReceiveBuffer(connection, 4 * 1024 * 1024);
            var thread = new Thread(() => Serve(connection, counter)) { IsBackground = true, Name = "dnstap-reader" };
            lock (_lock)
            {
                _sockets.Add(connection);
            }

            thread.Start();
        }
    }

    private static void TrySetReceiveBuffer(Socket socket, int bytes)
    {
        try
        {
            socket.ReceiveBufferSize = bytes; // the kernel caps it at net.core.rmem_max
        }
        catch (SocketException)
        {
        }
    }

    private void Serve(Socket socket, DnsHitCounter counter)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(BufferSize);
        int start = 0, end = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (end == buffer.Length)
                {
                    if (start == 0)
                    {
                        Array.Resize(ref buffer, Math.Min(buffer.Length * 2, DnstapWire.MaxFrameLength + 16));
                    }
                    else
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                }

                var read = socket.Receive(buffer.AsSpan(end), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                end += read;
                var small = read < SmallRead;
                while (true)
                {
                    var outcome = Process(buffer, ref start, end, counter, out var control, out var controlBody);
                    if (outcome == Outcome.NeedMore)
                    {
                        break;
                    }

                    if (outcome == Outcome.Invalid)
                    {
                        LogInvalidStream(_logger, Path);
                        return;
                    }

                    // A control frame: answer READY with ACCEPT, STOP with FINISH.
                    switch (control)
                    {
                        case DnstapWire.ControlReady:
                            if (!DnstapWire.OffersDnstap(buffer.AsSpan(controlBody.Start, controlBody.Length)))
                            {
                                LogInvalidStream(_logger, Path);
                                return;
                            }

                            socket.Send(Accept, SocketFlags.None);
                            break;
                        case DnstapWire.ControlStop:
                            socket.Send(Finish, SocketFlags.None);
                            return;
                        default:
                            break;
                    }
                }

                if (start == end)
                {
                    start = end = 0;
                }

                if (small)
                {
                    // Caught up: let frames gather for a millisecond rather than wake for every few. The socket buffer
                    // (~200 KiB, ~1,500 responses) and Knot's queues hold far more than a millisecond at full rate.
                    Thread.Sleep(1);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
            lock (_lock)
            {
                _sockets.Remove(socket);
                _counters.Remove(counter);
                _closed.Add(counter); // its last counts still go out with the next snapshot
            }
        }
    }

    private static readonly byte[] Accept = DnstapWire.Control(DnstapWire.ControlAccept, DnstapWire.ContentType);
    private static readonly byte[] Finish = DnstapWire.Control(DnstapWire.ControlFinish);

    internal enum Outcome
    {
        NeedMore,
        Control,
        Invalid,
    }

    /// <summary>
    /// Counts every complete data frame in buffer[start..end) under one lock, stopping at a control frame (returned
    /// with its body's position) or an incomplete frame.
    /// </summary>
    internal static Outcome Process(byte[] buffer, ref int start, int end, DnsHitCounter counter, out uint control, out Range2 controlBody)
    {
        control = 0;
        controlBody = default;
        Span<char> name = stackalloc char[DnstapWire.MaxNameChars];
        lock (counter.Lock)
        {
            while (end - start >= 4)
            {
                var length = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start));
                if (length == 0)
                {
                    if (end - start < 8)
                    {
                        return Outcome.NeedMore;
                    }

                    var controlLength = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start + 4));
                    if (controlLength < 4 || controlLength > 512)
                    {
                        return Outcome.Invalid;
                    }

                    if (end - start < 8 + (int)controlLength)
                    {
                        return Outcome.NeedMore;
                    }

                    control = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start + 8));
                    controlBody = new Range2(start + 8, (int)controlLength);
                    start += 8 + (int)controlLength;
                    return Outcome.Control;
                }

                if (length > DnstapWire.MaxFrameLength)
                {
                    return Outcome.Invalid;
                }

                if (end - start - 4 < (int)length)
                {
                    return Outcome.NeedMore;
                }

                var frame = buffer.AsSpan(start + 4, (int)length);
                start += 4 + (int)length;
                counter.CountFrame();
                if (!DnstapWire.TryReadMessage(frame, out var dns, out var response, out var timeSec, out var client, out var clientPort))
                {
                    counter.CountUnparsable();
                    continue;
                }

                if (!response)
                {
                    continue; // queries are not counted (knot.conf logs responses only)
                }

                if (AgentDnsProbe.IsOwnQuery(client, clientPort))
                {
                    counter.CountOwn(); // the agent's own probe (health check, diagnostics): not a hit
                    continue;
                }

                var nameLength = DnstapWire.ReadQuestion(dns, name, out _, out _);
                if (nameLength < 0)
                {
                    counter.CountUnparsable();
                    continue;
                }

                counter.CountName(name[..nameLength], timeSec);
            }
        }

        return Outcome.NeedMore;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose(); // ends the blocking receive of its reader thread
            }
        }

        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }

        _stop.Dispose();
    }

    [LoggerMessage(760, LogLevel.Warning, "dnstap socket {Path}: accept failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, string path, string error);

    [LoggerMessage(761, LogLevel.Warning, "dnstap socket {Path}: a connection sent an invalid Frame Streams stream; closed")]
    private static partial void LogInvalidStream(ILogger logger, string path);
}

/// <summary>A start and length in a buffer (a span cannot cross the await that answers a control frame).</summary>
internal readonly record struct Range2(int Start, int Length);
