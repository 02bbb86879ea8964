using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DnsClient;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>The probes done here: DNS through DnsClient (UDP, TCP on truncation), Kea as JSON over its unix socket.</summary>
internal sealed class DefaultServiceProbe : IServiceProbe
{
    public static readonly TimeSpan DnsTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Bound on a Kea answer (status-get answers are well below 1 KiB).</summary>
    private const int MaxKeaAnswer = 1024 * 1024;

    public async Task<DnsProbeResult> DnsAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var client = new LookupClient(new LookupClientOptions(endpoint)
        {
            UseCache = false,
            Retries = 0,
            Timeout = DnsTimeout,
            Recursion = false,
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            ContinueOnEmptyResponse = false,
            UseTcpFallback = true,
        });
        var response = await client.QueryAsync(".", QueryType.SOA, QueryClass.IN, cancellationToken);
        return new DnsProbeResult(Mnemonic((int)response.Header.ResponseCode));
    }

    public async Task<KeaProbeResult> KeaStatusAsync(string socketPath, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        await socket.SendAsync("""{"command":"status-get"}"""u8.ToArray(), SocketFlags.None, cancellationToken);

        // Kea answers one JSON document and closes; parse as soon as the document is complete.
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read > 0)
            {
                answer.Write(buffer, 0, read);
                if (answer.Length > MaxKeaAnswer)
                {
                    throw new IOException($"Kea sent more than {MaxKeaAnswer} bytes");
                }
            }

            if (TryParse(answer, out var result))
            {
                return result;
            }

            if (read == 0)
            {
                throw new IOException(answer.Length == 0 ? "Kea closed the socket without answering" : "Kea's answer is not valid JSON: " + Encoding.UTF8.GetString(answer.ToArray()));
            }
        }
    }

    private static bool TryParse(MemoryStream answer, out KeaProbeResult result)
    {
        result = null!;
        if (answer.Length == 0)
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(answer.ToArray());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0]; // through the control agent the answer is a list, one per service
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("result", out var code) || !code.TryGetInt32(out var value))
            {
                throw new IOException("Kea's answer has no 'result'");
            }

            result = new KeaProbeResult(value, root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null);
            return true;
        }
        catch (JsonException)
        {
            return false; // incomplete so far
        }
    }

    /// <summary>RFC 1035/2136 mnemonics of the response codes.</summary>
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
