using System.Security.Cryptography;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Shared.Security;

namespace ManagedServers.Silo.Tests.Broker;

public sealed class SecretBoxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ms-secretbox-").FullName;

    [Fact]
    public void Round_trips_and_never_shows_the_plaintext()
    {
        var box = SecretBox.Load(null, _dir);
        var sealedText = box.Protect("hunter2-password", "p");
        Assert.StartsWith("v1:", sealedText, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", sealedText, StringComparison.Ordinal);
        Assert.NotEqual(sealedText, box.Protect("hunter2-password", "p"));
        Assert.Equal("hunter2-password", box.Unprotect(sealedText, "p"));
        Assert.Equal(string.Empty, box.Protect(string.Empty, "p"));
        Assert.Equal(string.Empty, box.Unprotect(string.Empty, "p"));
    }

    [Fact]
    public void Key_file_is_private_and_reused()
    {
        var first = SecretBox.Load(null, _dir);
        var path = Path.Combine(_dir, SecretBox.KeyFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("x", SecretBox.Load(null, _dir).Unprotect(first.Protect("x", "p"), "p"));
    }

    [Fact]
    public void Wrong_key_purpose_or_tampering_fails()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var box = SecretBox.Load(Convert.ToBase64String(key), _dir);
        Assert.False(File.Exists(Path.Combine(_dir, SecretBox.KeyFileName)));
        var sealedText = box.Protect("secret", "a");

        Assert.ThrowsAny<CryptographicException>(() => box.Unprotect(sealedText, "b"));
        Assert.ThrowsAny<CryptographicException>(() => new SecretBox(RandomNumberGenerator.GetBytes(32)).Unprotect(sealedText, "a"));
        var bytes = Convert.FromBase64String(sealedText[3..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => box.Unprotect("v1:" + Convert.ToBase64String(bytes), "a"));
        Assert.Throws<InvalidOperationException>(() => SecretBox.Load(Convert.ToBase64String(new byte[16]), _dir));
        Assert.Throws<InvalidOperationException>(() => SecretBox.Load("not base64!", _dir));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
