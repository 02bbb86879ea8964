using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// Socket counts of this network namespace from procfs tables, streamed without per-line allocations
/// (a busy DNS server can have 100,000 sockets); never walks <c>/proc/*/fd</c>.
/// <list type="bullet">
/// <item><c>net.tcp.{state}</c> for every state in <see cref="SystemMetricNames.TcpStates"/> (zeros included) and
/// <c>net.tcp.total</c>, from <c>net/tcp</c> and <c>net/tcp6</c> (state column in hex, 01 established … 0B closing);</item>
/// <item><c>net.udp.sockets</c>: lines of <c>net/udp</c> and <c>net/udp6</c>;</item>
/// <item><c>net.listening</c>: TCP sockets in listen plus unconnected UDP sockets (state 07, remote address all zeros);</item>
/// <item><c>net.sockets_used</c>: "sockets: used N" of <c>net/sockstat</c>.</item>
/// </list>
/// The IPv6 tables are optional (IPv6 disabled), as is sockstat; net/tcp and net/udp are required.
/// </summary>
internal sealed class NetworkCollector(string procRoot = UptimeCollector.DefaultProcRoot) : ISystemCollector
{
    private const int BufferSize = 64 * 1024;
    private const int CloseState = 0x07;
    private const int ListenState = 0x0A;

    private static readonly string[] StateNames = [.. SystemMetricNames.TcpStates.Select(s => SystemMetricNames.TcpPrefix + s)];

    private readonly string _tcp = Path.Combine(procRoot, "net", "tcp");
    private readonly string _tcp6 = Path.Combine(procRoot, "net", "tcp6");
    private readonly string _udp = Path.Combine(procRoot, "net", "udp");
    private readonly string _udp6 = Path.Combine(procRoot, "net", "udp6");
    private readonly string _sockstat = Path.Combine(procRoot, "net", "sockstat");

    public string Name => "network";

    public void Collect(IDictionary<string, double> values)
    {
        // Index = state number (1..11); 0 and anything above 11 only count in the total.
        Span<long> tcp = stackalloc long[StateNames.Length + 1];
        long tcpTotal = 0;
        long udp = 0;
        long udpUnconnected = 0;

        using (var reader = ProcLineReader.Open(_tcp, BufferSize))
        {
            CountTcp(reader, tcp, ref tcpTotal);
        }

        using (var reader = ProcLineReader.OpenIfExists(_tcp6, BufferSize))
        {
            if (reader is not null)
            {
                CountTcp(reader, tcp, ref tcpTotal);
            }
        }

        using (var reader = ProcLineReader.Open(_udp, BufferSize))
        {
            CountUdp(reader, ref udp, ref udpUnconnected);
        }

        using (var reader = ProcLineReader.OpenIfExists(_udp6, BufferSize))
        {
            if (reader is not null)
            {
                CountUdp(reader, ref udp, ref udpUnconnected);
            }
        }

        var socketsUsed = ReadSocketsUsed();

        for (var i = 0; i < StateNames.Length; i++)
        {
            values[StateNames[i]] = tcp[i + 1];
        }

        values[SystemMetricNames.TcpTotal] = tcpTotal;
        values[SystemMetricNames.UdpSockets] = udp;
        values[SystemMetricNames.Listening] = tcp[ListenState] + udpUnconnected;
        if (socketsUsed is { } used)
        {
            values[SystemMetricNames.SocketsUsed] = used;
        }
    }

    private static void CountTcp(ProcLineReader reader, Span<long> byState, ref long total)
    {
        reader.TryReadLine(out _); // header
        while (reader.TryReadLine(out var line))
        {
            if (!TryParseSocket(line, out var state, out _))
            {
                continue;
            }

            total++;
            if (state > 0 && state < byState.Length)
            {
                byState[state]++;
            }
        }
    }

    private static void CountUdp(ProcLineReader reader, ref long sockets, ref long unconnected)
    {
        reader.TryReadLine(out _); // header
        while (reader.TryReadLine(out var line))
        {
            if (!TryParseSocket(line, out var state, out var remoteIsZero))
            {
                continue;
            }

            sockets++;
            if (state == CloseState && remoteIsZero)
            {
                unconnected++;
            }
        }
    }

    /// <summary>"sl local_address rem_address st ...": the state and whether the remote address and port are all zeros.</summary>
    private static bool TryParseSocket(ReadOnlySpan<byte> line, out int state, out bool remoteIsZero)
    {
        state = 0;
        remoteIsZero = false;
        if (!ProcText.NextField(ref line, out _)
            || !ProcText.NextField(ref line, out _)
            || !ProcText.NextField(ref line, out var remote)
            || !ProcText.NextField(ref line, out var st)
            || st.Length != 2
            || !TryHex(st[0], out var high)
            || !TryHex(st[1], out var low))
        {
            return false;
        }

        state = (high << 4) | low;
        remoteIsZero = remote.IndexOfAnyExcept((byte)'0', (byte)':') < 0;
        return true;
    }

    private static bool TryHex(byte b, out int value)
    {
        value = b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            _ => -1,
        };
        return value >= 0;
    }

    private long? ReadSocketsUsed()
    {
        using var reader = ProcLineReader.OpenIfExists(_sockstat, 1024);
        if (reader is null)
        {
            return null;
        }

        while (reader.TryReadLine(out var line))
        {
            // sockets: used 1234
            if (ProcText.NextField(ref line, out var key) && key.SequenceEqual("sockets:"u8)
                && ProcText.NextField(ref line, out var used) && used.SequenceEqual("used"u8)
                && ProcText.NextField(ref line, out var count))
            {
                return (long)ProcText.ParseUInt64(count, _sockstat);
            }
        }

        return null;
    }
}
