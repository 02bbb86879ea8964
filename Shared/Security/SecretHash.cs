using System.Security.Cryptography;
using System.Text;

namespace ManagedServers.Shared.Security;

/// <summary>How high-entropy secrets (API tokens, enrolment tokens) are stored and compared: SHA-256, constant time.</summary>
public static class SecretHash
{
    public static string Sha256Hex(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Compares two stored hashes without leaking where they differ.</summary>
    public static bool Equal(string storedHex, string candidateHex) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHex), Encoding.ASCII.GetBytes(candidateHex));
}
