using System.Security.Cryptography;
using System.Text;

namespace ManagedServers.Shared.Security;

/// <summary>
/// Encrypts secrets the control plane must be able to read back (the RabbitMQ password): AES-256-GCM with a
/// random 96-bit nonce; the purpose is bound as associated data so a ciphertext cannot be moved to another field.
/// Text form: <c>v1:</c> + base64(nonce | tag | ciphertext).
/// <para>The key comes from configuration <c>Secrets:Key</c> (base64, 32 bytes) when set, else from the file
/// <c>secret.key</c> (mode 0600) in the silo's data directory, created on first use. Every silo of a cluster
/// must share the key: cluster deployments set <c>Secrets:Key</c>.</para>
/// </summary>
public sealed class SecretBox
{
    public const string KeyFileName = "secret.key";
    private const string Prefix = "v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretBox(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != 32)
        {
            throw new ArgumentException("the secret key must be 32 bytes", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>The key from <paramref name="base64Key"/> when given, else from (or into) <c>{dataDir}/secret.key</c>.</summary>
    public static SecretBox Load(string? base64Key, string dataDir)
    {
        if (!string.IsNullOrWhiteSpace(base64Key))
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(base64Key.Trim());
            }
            catch (FormatException)
            {
                throw new InvalidOperationException("Secrets:Key is not base64");
            }

            return key.Length == 32 ? new SecretBox(key) : throw new InvalidOperationException($"Secrets:Key must be 32 bytes (base64), not {key.Length}");
        }

        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, KeyFileName);
        if (!File.Exists(path))
        {
            OwnerOnlyFile.CreateIfMissing(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }

        var text = File.ReadAllText(path).Trim();
        var bytes = Convert.FromBase64String(text);
        return bytes.Length == 32 ? new SecretBox(bytes) : throw new InvalidOperationException($"{path} must hold 32 bytes (base64)");
    }

    /// <summary>Encrypts <paramref name="plaintext"/> for <paramref name="purpose"/>; empty stays empty.</summary>
    public string Protect(string plaintext, string purpose)
    {
        if (string.IsNullOrEmpty(plaintext))
        {
            return string.Empty;
        }

        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + data.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, data, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(purpose));
        return Prefix + Convert.ToBase64String(output);
    }

    /// <summary>Decrypts what <see cref="Protect"/> made for the same purpose; throws <see cref="CryptographicException"/> when the key or purpose differ.</summary>
    public string Unprotect(string protectedText, string purpose)
    {
        if (string.IsNullOrEmpty(protectedText))
        {
            return string.Empty;
        }

        if (!protectedText.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CryptographicException("not a protected secret");
        }

        var input = Convert.FromBase64String(protectedText[Prefix.Length..]);
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("protected secret is truncated");
        }

        var plain = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(purpose));
        return Encoding.UTF8.GetString(plain);
    }
}
