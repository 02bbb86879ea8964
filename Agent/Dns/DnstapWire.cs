using System.Buffers.Binary;
using System.Text;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// Frame Streams (the dnstap transport) and the few dnstap/DNS fields the agent reads, parsed by hand: no protobuf
/// library, no allocation per frame. A frame is a 32-bit big-endian length and that many bytes; a length of 0
/// escapes a control frame (32-bit length, 32-bit type, then fields: 32-bit field type, 32-bit length, bytes).
/// Bidirectional handshake: the writer (knotd) sends READY with its content types, the reader answers ACCEPT with
/// the one it takes, the writer sends START, data frames, STOP; the reader answers FINISH.
/// </summary>
internal static class DnstapWire
{
    public const uint ControlAccept = 0x01;
    public const uint ControlStart = 0x02;
    public const uint ControlStop = 0x03;
    public const uint ControlReady = 0x04;
    public const uint ControlFinish = 0x05;
    public const uint FieldContentType = 0x01;

    /// <summary>Largest frame accepted (a DNS message is at most 64 KiB; dnstap adds addresses and times).</summary>
    public const int MaxFrameLength = 256 * 1024;

    public static ReadOnlySpan<byte> ContentType => "protobuf:dnstap.Dnstap"u8;

    // dnstap.proto: Dnstap.message = 14 (Message); Message.type = 1, query_address = 4, query_port = 6,
    // query_time_sec = 8, query_message = 10, response_time_sec = 12, response_message = 14. Message.Type: odd = query,
    // even = response (AUTH_RESPONSE = 2).
    private const int DnstapMessageField = 14;
    private const int MessageTypeField = 1;
    private const int QueryAddressField = 4;
    private const int QueryPortField = 6;
    private const int QueryTimeSecField = 8;
    private const int QueryMessageField = 10;
    private const int ResponseTimeSecField = 12;
    private const int ResponseMessageField = 14;

    /// <summary>A control frame: escape, length, type, and a content-type field when <paramref name="contentType"/> is not empty.</summary>
    public static byte[] Control(uint type, ReadOnlySpan<byte> contentType = default)
    {
        var length = 4 + (contentType.IsEmpty ? 0 : 8 + contentType.Length);
        var frame = new byte[8 + length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), type);
        if (!contentType.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), FieldContentType);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(16), (uint)contentType.Length);
            contentType.CopyTo(frame.AsSpan(20));
        }

        return frame;
    }

    /// <summary>A data frame (tests and the benchmark build them).</summary>
    public static byte[] Data(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }

    /// <summary>Whether a control frame's body (after its length) carries <see cref="ContentType"/> (or no content type at all).</summary>
    public static bool OffersDnstap(ReadOnlySpan<byte> body)
    {
        var fields = body[4..];
        var any = false;
        while (fields.Length >= 8)
        {
            var type = BinaryPrimitives.ReadUInt32BigEndian(fields);
            var length = BinaryPrimitives.ReadUInt32BigEndian(fields[4..]);
            if (length > (uint)(fields.Length - 8))
            {
                return false;
            }

            if (type == FieldContentType)
            {
                any = true;
                if (fields.Slice(8, (int)length).SequenceEqual(ContentType))
                {
                    return true;
                }
            }

            fields = fields[(8 + (int)length)..];
        }

        return !any;
    }

    /// <summary>
    /// Finds the DNS message of a dnstap payload: the response when there is one (else the query), whether it is a
    /// response, the time (Unix seconds; 0 when absent), and the client's address (4 or 16 bytes; empty when absent)
    /// and port (0 when absent). False when the payload is not a dnstap message.
    /// </summary>
    public static bool TryReadMessage(ReadOnlySpan<byte> dnstap, out ReadOnlySpan<byte> dns, out bool response, out long timeSec, out ReadOnlySpan<byte> queryAddress, out uint queryPort)
    {
        dns = default;
        response = false;
        timeSec = 0;
        queryAddress = default;
        queryPort = 0;
        if (!TryFindField(dnstap, DnstapMessageField, out var message))
        {
            return false;
        }

        ReadOnlySpan<byte> query = default, answer = default;
        long queryTime = 0, responseTime = 0, type = 0;
        while (!message.IsEmpty)
        {
            if (!TryReadVarint(ref message, out var key))
            {
                return false;
            }

            var field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    if (!TryReadVarint(ref message, out var value))
                    {
                        return false;
                    }

                    if (field == MessageTypeField)
                    {
                        type = (long)value;
                    }
                    else if (field == QueryTimeSecField)
                    {
                        queryTime = (long)value;
                    }
                    else if (field == ResponseTimeSecField)
                    {
                        responseTime = (long)value;
                    }
                    else if (field == QueryPortField)
                    {
                        queryPort = (uint)value;
                    }

                    break;
                case 2:
                    if (!TryReadVarint(ref message, out var length) || length > (ulong)message.Length)
                    {
                        return false;
                    }

                    if (field == QueryMessageField)
                    {
                        query = message[..(int)length];
                    }
                    else if (field == ResponseMessageField)
                    {
                        answer = message[..(int)length];
                    }
                    else if (field == QueryAddressField)
                    {
                        queryAddress = message[..(int)length];
                    }

                    message = message[(int)length..];
                    break;
                case 1:
                    if (message.Length < 8)
                    {
                        return false;
                    }

                    message = message[8..];
                    break;
                case 5:
                    if (message.Length < 4)
                    {
                        return false;
                    }

                    message = message[4..];
                    break;
                default:
                    return false;
            }
        }

        response = type != 0 && (type & 1) == 0;
        if (!answer.IsEmpty)
        {
            dns = answer;
            response = true;
            timeSec = responseTime != 0 ? responseTime : queryTime;
            return true;
        }

        dns = query;
        timeSec = queryTime;
        return !query.IsEmpty;
    }

    private static bool TryFindField(ReadOnlySpan<byte> data, int wanted, out ReadOnlySpan<byte> value)
    {
        value = default;
        while (!data.IsEmpty)
        {
            if (!TryReadVarint(ref data, out var key))
            {
                return false;
            }

            switch ((int)(key & 7))
            {
                case 0:
                    if (!TryReadVarint(ref data, out _))
                    {
                        return false;
                    }

                    break;
                case 2:
                    if (!TryReadVarint(ref data, out var length) || length > (ulong)data.Length)
                    {
                        return false;
                    }

                    if ((int)(key >> 3) == wanted)
                    {
                        value = data[..(int)length];
                        return true;
                    }

                    data = data[(int)length..];
                    break;
                case 1 when data.Length >= 8:
                    data = data[8..];
                    break;
                case 5 when data.Length >= 4:
                    data = data[4..];
                    break;
                default:
                    return false;
            }
        }

        return false;
    }

    private static bool TryReadVarint(ref ReadOnlySpan<byte> data, out ulong value)
    {
        value = 0;
        for (var i = 0; i < 10 && i < data.Length; i++)
        {
            var b = data[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                data = data[(i + 1)..];
                return true;
            }
        }

        return false;
    }

    /// <summary>Longest name in presentation form, with every byte escaped as <c>\DDD</c>.</summary>
    public const int MaxNameChars = 1024;

    /// <summary>
    /// Reads the question of a DNS message: its name written into <paramref name="name"/> in lower case, without the
    /// trailing dot (the root is <c>.</c>; bytes other than letters, digits, '-', '_' and '*' escaped as <c>\DDD</c>),
    /// the QTYPE and the header's RCODE. Returns the name's length, or -1 when the message has no readable question.
    /// </summary>
    public static int ReadQuestion(ReadOnlySpan<byte> dns, Span<char> name, out ushort qtype, out byte rcode)
    {
        qtype = 0;
        rcode = 0;
        if (dns.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(dns[4..]) == 0)
        {
            return -1;
        }

        rcode = (byte)(dns[3] & 0x0F);
        var offset = 12;
        var written = 0;
        while (true)
        {
            if (offset >= dns.Length)
            {
                return -1;
            }

            int length = dns[offset++];
            if (length == 0)
            {
                break;
            }

            if (length > 63 || offset + length > dns.Length)
            {
                return -1; // a compression pointer (never first in a question) or a truncated label
            }

            if (written > 0)
            {
                name[written++] = '.';
            }

            foreach (var b in dns.Slice(offset, length))
            {
                if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'*')
                {
                    name[written++] = (char)b;
                }
                else if (b is >= (byte)'A' and <= (byte)'Z')
                {
                    name[written++] = (char)(b | 0x20);
                }
                else
                {
                    name[written++] = '\\';
                    name[written++] = (char)('0' + (b / 100));
                    name[written++] = (char)('0' + (b / 10 % 10));
                    name[written++] = (char)('0' + (b % 10));
                }
            }

            offset += length;
        }

        if (offset + 4 > dns.Length)
        {
            return -1;
        }

        qtype = BinaryPrimitives.ReadUInt16BigEndian(dns[offset..]);
        if (written == 0)
        {
            name[0] = '.';
            written = 1;
        }

        return written;
    }

    /// <summary>A DNS response with one question, for tests and the benchmark.</summary>
    public static byte[] BuildResponse(string qname, ushort qtype, byte rcode, ushort id = 1)
    {
        var message = new List<byte> { (byte)(id >> 8), (byte)id, 0x84, rcode, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in qname.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            message.Add((byte)label.Length);
            message.AddRange(Encoding.ASCII.GetBytes(label));
        }

        message.AddRange([0, (byte)(qtype >> 8), (byte)qtype, 0, 1]);
        return [.. message];
    }

    /// <summary>A dnstap AUTH_RESPONSE payload around <paramref name="dns"/> (from a client, when given), for tests and the benchmark.</summary>
    public static byte[] BuildDnstap(ReadOnlySpan<byte> dns, long timeSec, System.Net.IPEndPoint? client = null)
    {
        var message = new List<byte>();
        message.AddRange([(1 << 3) | 0, 2]); // type = AUTH_RESPONSE
        if (client is not null)
        {
            var address = client.Address.GetAddressBytes();
            message.Add((QueryAddressField << 3) | 2);
            AddVarint(message, (ulong)address.Length);
            message.AddRange(address);
            message.Add((QueryPortField << 3) | 0);
            AddVarint(message, (ulong)client.Port);
        }

        message.Add((12 << 3) | 0);
        AddVarint(message, (ulong)timeSec);
        message.Add((14 << 3) | 2);
        AddVarint(message, (ulong)dns.Length);
        message.AddRange(dns.ToArray());
        var outer = new List<byte>();
        outer.AddRange([(15 << 3) | 0, 1]); // type = MESSAGE
        outer.Add((14 << 3) | 2);
        AddVarint(outer, (ulong)message.Count);
        outer.AddRange(message);
        return [.. outer];
    }

    private static void AddVarint(List<byte> bytes, ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }
}
