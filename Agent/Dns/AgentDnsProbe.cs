using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace ManagedServers.Agent.Dns;

/// <summary>What one probe query got: an answer (its RCODE and, for SOA, the serial of the answer's SOA) or none.</summary>
internal readonly record struct DnsProbeAnswer(bool Answered, int Rcode, long? Serial, string? Error, TimeSpan Latency)
{
    /// <summary>The RCODE's mnemonic (NOERROR, REFUSED …).</summary>
    public string RcodeText => Mnemonic(Rcode);

    /// <summary>RFC 1035/2136 mnemonics of DNS response codes.</summary>
    public static string Mnemonic(int code) => code switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RCODE" + code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// The DNS queries the agent sends to its own DNS service (install and start waits, health checks after an apply,
/// diagnostics) all leave from <b>one UDP socket</b>, bound once per agent process to a port the kernel picks
/// (<see cref="Port"/>) and held for the process's life. That source (a local address and this port) is the marker by
/// which the dnstap reader leaves the agent's own queries out of the hit counts (<see cref="IsOwnQuery"/>): while the
/// agent holds the port no other local socket can send from it, and a remote client cannot have a local source
/// address. (The query id or an EDNS option would not do: Knot logs responses only, which carry no EDNS option of the
/// query, and a 16-bit id pattern collides with real clients' ids.)
/// <para>
/// One dual-stack socket (IPv4 as mapped addresses; IPv4 only when the host has no IPv6), a receive loop matching
/// answers to pending queries by id and source, any number of queries in flight (at most 65,536).
/// </para>
/// </summary>
internal sealed class AgentDnsProbe : IDisposable
{
    public const ushort TypeSoa = 6;

    private static readonly Lazy<AgentDnsProbe> SharedProbe = new(() => new AgentDnsProbe(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly TimeSpan LocalAddressesMaxAge = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<ushort, Pending> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private volatile byte[][] _localAddresses = [];
    private long _localAddressesAt = long.MinValue;

    public AgentDnsProbe()
    {
        _socket = Open();
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        RefreshLocalAddresses();
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The agent's probe socket (made at first use).</summary>
    public static AgentDnsProbe Shared => SharedProbe.Value;

    /// <summary>The source port of every probe of this instance.</summary>
    public int Port { get; }

    /// <summary>
    /// Whether a query from <paramref name="address"/> (4 or 16 bytes, as dnstap carries it) and <paramref name="port"/>
    /// is one the agent sent itself. False for everything while the shared probe was never used (no own queries yet).
    /// Allocates nothing (it runs for every dnstap frame).
    /// </summary>
    public static bool IsOwnQuery(ReadOnlySpan<byte> address, uint port) =>
        SharedProbe.IsValueCreated && SharedProbe.Value.IsFrom(address, port);

    /// <summary>Whether <paramref name="address"/>:<paramref name="port"/> is this instance's socket seen from a local service.</summary>
    public bool IsFrom(ReadOnlySpan<byte> address, uint port)
    {
        if (port != (uint)Port)
        {
            return false;
        }

        if (IsLoopback(address))
        {
            return true;
        }

        foreach (var local in _localAddresses)
        {
            if (address.SequenceEqual(local) || (address.Length == 16 && local.Length == 4 && IsMapped(address) && address[12..].SequenceEqual(local)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Asks <paramref name="server"/> for <paramref name="name"/> (presentation form; "." for the root) and type, once, over UDP.</summary>
    public async Task<DnsProbeAnswer> QueryAsync(IPEndPoint server, string name, ushort type, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _localAddressesAt)) > LocalAddressesMaxAge)
        {
            RefreshLocalAddresses();
        }

        var target = _socket.AddressFamily == AddressFamily.InterNetworkV6 && server.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(server.Address.MapToIPv6(), server.Port)
            : server;
        var started = Stopwatch.GetTimestamp();
        var pending = new Pending(target);
        ushort id;
        do
        {
            id = (ushort)Random.Shared.Next(0, 65536);
        }
        while (!_pending.TryAdd(id, pending));

        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            byte[] response;
            try
            {
                await _socket.SendToAsync(BuildQuery(id, name, type), SocketFlags.None, target, limit.Token);
                response = await pending.Answer.Task.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new DnsProbeAnswer(false, -1, null, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer from {server} within {timeout.TotalSeconds:0.##} s"), Stopwatch.GetElapsedTime(started));
            }
            catch (SocketException e)
            {
                return new DnsProbeAnswer(false, -1, null, $"cannot send to {server}: {e.Message}", Stopwatch.GetElapsedTime(started));
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            return TryParse(response, name, type, out var rcode, out var serial)
                ? new DnsProbeAnswer(true, rcode, serial, null, elapsed)
                : new DnsProbeAnswer(false, -1, null, $"an unreadable answer from {server}", elapsed);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The SOA serial <paramref name="zone"/> answers with on <paramref name="server"/> (<see cref="DnsProbeAnswer.Serial"/> null when none).</summary>
    public Task<DnsProbeAnswer> QuerySoaAsync(IPEndPoint server, string zone, TimeSpan timeout, CancellationToken cancellationToken) =>
        QueryAsync(server, zone, TypeSoa, timeout, cancellationToken);

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _receiveLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>A query: header (id, no flags: no recursion wanted), one question of class IN.</summary>
    internal static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var labels = name == "." ? [] : name.TrimEnd('.').Split('.');
        var length = 12 + 1 + labels.Sum(l => 1 + l.Length) + 4;
        var query = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(query, id);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(4), 1); // QDCOUNT
        var offset = 12;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                throw new ArgumentException($"'{name}' is not a domain name", nameof(name));
            }

            query[offset++] = (byte)label.Length;
            foreach (var c in label)
            {
                query[offset++] = c < 128 ? (byte)c : throw new ArgumentException($"'{name}' is not an ASCII domain name", nameof(name));
            }
        }

        query[offset++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset + 2), 1); // IN
        return query;
    }

    /// <summary>
    /// Reads an answer to the question (<paramref name="name"/>, <paramref name="type"/>): its RCODE and, when the answer
    /// section holds a SOA record, that record's serial. False when the message is not a response to that question.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<byte> message, string name, ushort type, out int rcode, out long? serial)
    {
        rcode = -1;
        serial = null;
        if (message.Length < 12 || (message[2] & 0x80) == 0 || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != 1)
        {
            return false;
        }

        rcode = message[3] & 0x0F;
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);

        // The question as sent, compared in wire form (ASCII case aside): the first name of a message is never
        // compressed, and wire form needs no presentation escapes (an RFC 2317 name's '/', say).
        var question = BuildQuery(0, name, type).AsSpan(12);
        if (message.Length < 12 + question.Length || !AsciiEqualsIgnoreCase(message.Slice(12, question.Length), question))
        {
            return false;
        }

        var offset = 12 + question.Length;

        for (var i = 0; i < answers; i++)
        {
            if (!SkipName(message, ref offset) || offset + 10 > message.Length)
            {
                return true; // a truncated answer section: the RCODE stands, no serial
            }

            var rrType = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            var rdata = offset + 10;
            offset = rdata + rdLength;
            if (offset > message.Length)
            {
                return true;
            }

            if (rrType == TypeSoa)
            {
                var at = rdata;
                if (SkipName(message, ref at) && SkipName(message, ref at) && at + 4 <= rdata + rdLength)
                {
                    serial = BinaryPrimitives.ReadUInt32BigEndian(message[at..]);
                }

                return true;
            }
        }

        return true;
    }

    private static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && !(char.IsAsciiLetter((char)a[i]) && (a[i] | 0x20) == (b[i] | 0x20)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Moves past a name (labels ending in the root label or a compression pointer).</summary>
    private static bool SkipName(ReadOnlySpan<byte> message, ref int offset)
    {
        while (offset < message.Length)
        {
            var length = message[offset];
            if (length == 0)
            {
                offset++;
                return true;
            }

            if ((length & 0xC0) == 0xC0)
            {
                offset += 2;
                return offset <= message.Length;
            }

            if (length > 63)
            {
                return false;
            }

            offset += 1 + length;
        }

        return false;
    }

    private static Socket Open()
    {
        if (Socket.OSSupportsIPv6)
        {
            var dual = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                dual.DualMode = true;
                dual.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
                return dual;
            }
            catch (SocketException)
            {
                dual.Dispose();
            }
        }

        var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        v4.Bind(new IPEndPoint(IPAddress.Any, 0));
        return v4;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65535];
        EndPoint any = _socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (SocketException)
            {
                // E.g. an ICMP error reported on the socket: the query it concerns times out. No busy loop on a broken socket.
                await Task.Delay(10);
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            if (received.ReceivedBytes < 12)
            {
                continue;
            }

            var id = BinaryPrimitives.ReadUInt16BigEndian(buffer);
            if (_pending.TryGetValue(id, out var pending) && pending.Server.Equals(received.RemoteEndPoint))
            {
                pending.Answer.TrySetResult(buffer.AsSpan(0, received.ReceivedBytes).ToArray());
            }
        }
    }

    private void RefreshLocalAddresses()
    {
        try
        {
            _localAddresses = [.. NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address.GetAddressBytes())];
        }
        catch (NetworkInformationException)
        {
            // Loopback is always recognised; other local addresses are tried again at the next probe.
        }

        Interlocked.Exchange(ref _localAddressesAt, Stopwatch.GetTimestamp());
    }

    private static bool IsLoopback(ReadOnlySpan<byte> address) => address.Length switch
    {
        4 => address[0] == 127,
        16 => (IsMapped(address) && address[12] == 127) || (address[..15].IndexOfAnyExcept((byte)0) < 0 && address[15] == 1),
        _ => false,
    };

    private static bool IsMapped(ReadOnlySpan<byte> address) =>
        address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xFF && address[11] == 0xFF;

    private sealed class Pending(IPEndPoint server)
    {
        public IPEndPoint Server { get; } = server;

        public TaskCompletionSource<byte[]> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
