using System.Security.Cryptography;
using System.Text;
using ManagedServers.Shared.Security;

namespace ManagedServers.Api.Auth;

/// <summary>Password hashing (PBKDF2-SHA256) and API token formatting. Secrets are never logged.</summary>
public static class Secrets
{
    private const int Iterations = 100_000;
    private const string TokenPrefix = "mst_";

    public static string HashPassword(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>A hash no password matches, checked when there is no stored hash so that refusing costs the same work.</summary>
    private static readonly string NoUserHash = HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/>; with no stored hash, false after the same work.</summary>
    public static bool VerifyPassword(string password, string? stored)
    {
        if (stored is null)
        {
            _ = VerifyPassword(password, NoUserHash);
            return false;
        }

        var parts = stored.Split('$');
        if (parts is not { Length: 4 } || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations))
        {
            return false;
        }

        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A new token: <c>mst_{id}_{secret}</c>; the id is public, only the secret's SHA-256 is stored.</summary>
    public static (string Token, string Id, string SecretSha256) NewToken()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return ($"{TokenPrefix}{id}_{secret}", id, Sha256Hex(secret));
    }

    public static bool TryParseToken(string token, out string id, out string secret)
    {
        id = secret = string.Empty;
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = token.AsSpan(TokenPrefix.Length);
        var split = rest.IndexOf('_');
        if (split != 16 || rest.Length < split + 20)
        {
            return false;
        }

        id = rest[..split].ToString();
        secret = rest[(split + 1)..].ToString();
        return true;
    }

    public static string Sha256Hex(string value) => SecretHash.Sha256Hex(value);

    public static string RandomPassword() => Base64Url(RandomNumberGenerator.GetBytes(18));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
