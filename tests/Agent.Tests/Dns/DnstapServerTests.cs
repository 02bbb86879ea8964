using System.Buffers.Binary;
using System.Net.Sockets;
using ManagedServers.Agent.Dns;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>Frame Streams handshake and dnstap parsing with hand-built frames over the real unix socket.</summary>
public sealed class DnstapServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ms-dt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Response(string name, byte rcode = 0, long time = 1_700_000_000) =>
        DnstapWire.Data(DnstapWire.BuildDnstap(DnstapWire.BuildResponse(name, 1, rcode), time));

    private static async Task<uint> ReadControlAsync(Socket socket)
    {
        var header = new byte[8];
        await ReceiveExactlyAsync(socket, header);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(header));
        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4))];
        await ReceiveExactlyAsync(socket, body);
        return BinaryPrimitives.ReadUInt32BigEndian(body);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, "the reader closed the connection");
            read += n;
        }
    }

    private static async Task<DnsHitSnapshot> WaitForFramesAsync(DnstapServer server, long frames)
    {
        var total = new DnsHitSnapshot();
        for (var i = 0; i < 200 && total.FramesSeen < frames; i++)
        {
            total.Add(server.Snapshot());
            await Task.Delay(25);
        }

        return total;
    }

    [Fact]
    public async Task Handshake_counts_names_and_finishes()
    {
        var path = Path.Combine(_dir, "dnstap.sock");
        await using var server = DnstapServer.Start(path, NullLogger.Instance);
        Assert.Equal(UnixFileMode.OtherWrite, File.GetUnixFileMode(path) & UnixFileMode.OtherWrite);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));

        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlReady, DnstapWire.ContentType));
        Assert.Equal(DnstapWire.ControlAccept, await ReadControlAsync(socket));
        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlStart, DnstapWire.ContentType));

        var stream = new List<byte>();
        for (var i = 0; i < 7; i++)
        {
            stream.AddRange(Response("WWW.Example.COM."));
        }

        for (var i = 0; i < 3; i++)
        {
            stream.AddRange(Response("mail.example.com", time: 1_700_000_100 + i));
        }

        stream.AddRange(Response("nx.example.com", rcode: 3));
        stream.AddRange(DnstapWire.Data([0x72, 0x05, 1, 2])); // a truncated protobuf: counted as unparsable
        stream.AddRange(Response("."));

        // Sent in small pieces, so frames straddle receives.
        var bytes = stream.ToArray();
        for (var offset = 0; offset < bytes.Length; offset += 7)
        {
            await socket.SendAsync(bytes.AsMemory(offset, Math.Min(7, bytes.Length - offset)));
        }

        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlStop));
        Assert.Equal(DnstapWire.ControlFinish, await ReadControlAsync(socket));

        var snapshot = await WaitForFramesAsync(server, 13);
        Assert.Equal(13, snapshot.FramesSeen);
        Assert.Equal(1, snapshot.FramesUnparsable);
        Assert.Equal(7, snapshot.Names["www.example.com"].Hits);
        Assert.Equal(3, snapshot.Names["mail.example.com"].Hits);
        Assert.Equal(1_700_000_102, snapshot.Names["mail.example.com"].LastSec);
        Assert.Equal(1, snapshot.Names["nx.example.com"].Hits);
        Assert.Equal(1, snapshot.Names["."].Hits);
        Assert.Equal(0, server.Snapshot().FramesSeen); // swapped: the next interval starts empty
    }

    [Fact]
    public async Task Several_connections_are_counted_together_and_names_past_the_bound_per_parent()
    {
        var path = Path.Combine(_dir, "dnstap.sock");
        await using var server = DnstapServer.Start(path, NullLogger.Instance, maxNamesPerConnection: 2);
        var sockets = new List<Socket>();
        for (var c = 0; c < 3; c++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            sockets.Add(socket);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlReady, DnstapWire.ContentType));
            Assert.Equal(DnstapWire.ControlAccept, await ReadControlAsync(socket));
            await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlStart, DnstapWire.ContentType));
            await socket.SendAsync(Response("a.example.com"));
            await socket.SendAsync(Response("b.example.com"));
            await socket.SendAsync(Response("c.example.com")); // third distinct name: past the bound of 2
        }

        var snapshot = await WaitForFramesAsync(server, 9);
        Assert.Equal(9, snapshot.FramesSeen);
        Assert.Equal(3, snapshot.Names["a.example.com"].Hits);
        Assert.Equal(3, snapshot.Names["b.example.com"].Hits);
        Assert.False(snapshot.Names.ContainsKey("c.example.com"));
        Assert.Equal(3, snapshot.OverflowHits["example.com"]);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task Responses_to_the_agents_own_probe_socket_are_seen_but_not_counted()
    {
        var path = Path.Combine(_dir, "dnstap.sock");
        await using var server = DnstapServer.Start(path, NullLogger.Instance);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlReady, DnstapWire.ContentType));
        Assert.Equal(DnstapWire.ControlAccept, await ReadControlAsync(socket));
        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlStart, DnstapWire.ContentType));

        var probePort = AgentDnsProbe.Shared.Port;
        var otherPort = probePort == 40000 ? 40001 : 40000;
        byte[] From(string address, int port) =>
            DnstapWire.Data(DnstapWire.BuildDnstap(DnstapWire.BuildResponse("example.com", 6, 0), 1_700_000_000, new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), port)));
        await socket.SendAsync(From("127.0.0.1", probePort)); // the agent's probe over IPv4: not a hit
        await socket.SendAsync(From("::1", probePort)); // over IPv6: not a hit
        await socket.SendAsync(From("127.0.0.1", otherPort)); // another local client: a hit
        await socket.SendAsync(From("192.0.2.7", probePort)); // a remote client that happens to use the same port: a hit

        var snapshot = await WaitForFramesAsync(server, 4);
        Assert.Equal(4, snapshot.FramesSeen);
        Assert.Equal(2, snapshot.FramesOwn);
        Assert.Equal(2, snapshot.Names["example.com"].Hits);
    }

    [Fact]
    public async Task A_writer_offering_another_content_type_is_closed()
    {
        var path = Path.Combine(_dir, "dnstap.sock");
        await using var server = DnstapServer.Start(path, NullLogger.Instance);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await socket.SendAsync(DnstapWire.Control(DnstapWire.ControlReady, "protobuf:other"u8));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await socket.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token));
    }

    [Theory]
    [InlineData("www.Example.com", "www.example.com")]
    [InlineData("a b.example.com", "a\\032b.example.com")]
    [InlineData("*.example.com", "*.example.com")]
    public void Question_names_are_lower_case_and_escaped(string wire, string expected)
    {
        Span<char> name = stackalloc char[DnstapWire.MaxNameChars];
        var length = DnstapWire.ReadQuestion(DnstapWire.BuildResponse(wire, 28, 3), name, out var qtype, out var rcode);
        Assert.Equal(expected, name[..length].ToString());
        Assert.Equal(28, qtype);
        Assert.Equal(3, rcode);
    }

    [Fact]
    public void Zones_match_by_longest_suffix()
    {
        var matcher = new DnsZoneMatcher(["example.com", "sub.example.com", "example.net"]);
        Assert.Equal("sub.example.com", matcher.Match("www.sub.example.com"));
        Assert.Equal("example.com", matcher.Match("www.example.com"));
        Assert.Equal("example.com", matcher.Match("example.com"));
        Assert.Null(matcher.Match("www.example.org"));
        Assert.Null(matcher.Match("notexample.com"));
    }
}
