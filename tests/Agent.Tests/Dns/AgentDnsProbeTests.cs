using System.Buffers.Binary;
using ManagedServers.Agent.Dns;

namespace ManagedServers.Agent.Tests.Dns;

/// <summary>The agent's SOA probe reads answers to the question it asked, names compared in wire form.</summary>
public sealed class AgentDnsProbeTests
{
    /// <summary>A response to <paramref name="asked"/> (wire form as the server echoes it) with one SOA of serial <paramref name="serial"/>.</summary>
    private static byte[] SoaResponse(string asked, uint serial)
    {
        var query = AgentDnsProbe.BuildQuery(7, asked, AgentDnsProbe.TypeSoa);
        var answer = new byte[2 + 2 + 2 + 4 + 2 + 2 + 20];
        BinaryPrimitives.WriteUInt16BigEndian(answer, 0xC00C); // the owner: a pointer to the question's name
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(2), AgentDnsProbe.TypeSoa);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(6), 3600);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), 22);
        // MNAME and RNAME are the root (one zero byte each), then serial, refresh, retry, expire, minimum.
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(14), serial);
        var message = query.Concat(answer).ToArray();
        message[2] |= 0x84; // QR, AA
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), 1); // ANCOUNT
        return message;
    }

    [Theory]
    [InlineData("0/25.2.0.192.in-addr.arpa", "0/25.2.0.192.IN-ADDR.ARPA")] // RFC 2317: '/' needs no escape on the wire
    [InlineData("example.test", "Example.TEST.")]
    [InlineData(".", ".")]
    public void An_answer_to_the_question_asked_gives_its_serial(string zone, string echoed)
    {
        Assert.True(AgentDnsProbe.TryParse(SoaResponse(echoed, 2026120301), zone, AgentDnsProbe.TypeSoa, out var rcode, out var serial));
        Assert.Equal(0, rcode);
        Assert.Equal(2026120301, serial);
    }

    [Theory]
    [InlineData("0/25.2.0.192.in-addr.arpa", "0/26.2.0.192.in-addr.arpa")]
    [InlineData("example.test", "example.tesu")]
    [InlineData("a-b.test", "a\rb.test")] // '-' | 0x20 is '-', '\r' | 0x20 is '-': only letters compare without case
    public void An_answer_to_another_question_is_not_taken(string zone, string echoed) =>
        Assert.False(AgentDnsProbe.TryParse(SoaResponse(echoed, 1), zone, AgentDnsProbe.TypeSoa, out _, out _));
}
