using System.Buffers;
using System.Security.Cryptography;

namespace ManagedServers.Contracts.Agent;

/// <summary>
/// Server ids: "srv-" and 16 lowercase hex digits, made by the control plane. An id from outside (an enrolment request,
/// a URL) is checked against this form before it reaches a certificate subject, a broker user name or a log line.
/// </summary>
public static class ServerIds
{
    public const string Prefix = "srv-";

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static string New() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static bool IsWellFormed(string? id) =>
        id is { Length: 20 } && id.StartsWith(Prefix, StringComparison.Ordinal) && !id.AsSpan(Prefix.Length).ContainsAnyExcept(LowerHex);
}
