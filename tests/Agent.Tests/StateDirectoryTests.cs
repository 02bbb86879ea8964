using System.Security.Cryptography;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Tests;

public sealed class StateDirectoryTests
{
    [Fact]
    public void Enrollment_round_trips_with_private_modes()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var state = new StateDirectory(temp.Combine("state"));
        var (keyPem, certPem) = IssuePair(ca, "srv-1");
        var settings = new AgentSettings("srv-1", "dns-1", "https://127.0.0.1:5001", 15);

        state.WriteEnrollment(settings, keyPem, certPem, ca.Pem);

        Assert.Equal(settings, state.ReadSettings());
        Assert.Equal(ca.Pem, state.ReadCaPem());
        using var loaded = state.LoadCredentials();
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal("CN=srv-1", loaded.Subject);

        Assert.Equal(StateDirectory.DirectoryMode, File.GetUnixFileMode(state.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state.KeyFile));
        Assert.Empty(Directory.GetFiles(state.Path, AtomicFile.TempPrefix + "*"));

        var json = File.ReadAllText(state.SettingsFile);
        Assert.Contains("\"server_id\": \"srv-1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"heartbeat_interval_seconds\": 15", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Existing_directory_is_tightened_to_0700()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("state");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);

        new StateDirectory(dir).EnsureCreated();

        Assert.Equal(StateDirectory.DirectoryMode, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void Failed_atomic_write_keeps_old_content_and_leaves_no_partial_file()
    {
        using var temp = new TempDir();
        var file = temp.Combine("data.json");
        AtomicFile.WriteAllText(file, "old content", AtomicFile.OwnerOnly);

        var error = Assert.Throws<IOException>(() => AtomicFile.Write(
            file,
            stream =>
            {
                stream.Write("new con"u8);
                throw new IOException("disk full");
            },
            AtomicFile.OwnerOnly));

        Assert.Equal("disk full", error.Message);
        Assert.Equal("old content", File.ReadAllText(file));
        Assert.Equal([file], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Atomic_write_sets_the_exact_mode()
    {
        using var temp = new TempDir();
        var file = temp.Combine("secret");
        AtomicFile.WriteAllText(file, "x", AtomicFile.OwnerWriteAllRead);
        AtomicFile.WriteAllText(file, "y", AtomicFile.OwnerOnly);

        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(file));
        Assert.Equal("y", File.ReadAllText(file));
    }

    [Fact]
    public void Missing_state_gives_a_readable_error()
    {
        using var temp = new TempDir();
        var error = Assert.Throws<AgentException>(() => new StateDirectory(temp.Combine("none")).ReadSettings());
        Assert.Contains("not enrolled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renewed_credentials_replace_the_pair()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var state = new StateDirectory(temp.Combine("state"));
        var (key1, cert1) = IssuePair(ca, "srv-1");
        state.WriteEnrollment(new AgentSettings("srv-1", "n", "https://127.0.0.1:1", 30), key1, cert1, ca.Pem);
        var (key2, cert2) = IssuePair(ca, "srv-1");

        state.WriteRenewedCredentials(key2, cert2);

        Assert.Equal(key2, File.ReadAllText(state.KeyFile));
        Assert.Equal(cert2, File.ReadAllText(state.CertificateFile));
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(state.KeyFile));
        Assert.False(File.Exists(state.NewKeyFile));
        using var loaded = state.LoadCredentials();
        Assert.True(loaded.HasPrivateKey);
    }

    [Fact]
    public void Renewal_interrupted_between_renames_is_recovered()
    {
        using var temp = new TempDir();
        using var ca = TestCa.Create();
        var state = new StateDirectory(temp.Combine("state"));
        var (key1, cert1) = IssuePair(ca, "srv-1");
        state.WriteEnrollment(new AgentSettings("srv-1", "n", "https://127.0.0.1:1", 30), key1, cert1, ca.Pem);
        var (key2, cert2) = IssuePair(ca, "srv-1");

        // The state a crash after renaming the certificate but before renaming the key leaves.
        File.WriteAllText(state.CertificateFile, cert2);
        File.WriteAllText(state.NewKeyFile, key2);

        using var loaded = state.LoadCredentials();
        using var expected = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(cert2);
        Assert.Equal(expected.Thumbprint, loaded.Thumbprint);
        Assert.Equal(key2, File.ReadAllText(state.KeyFile));
        Assert.False(File.Exists(state.NewKeyFile));
    }

    internal static (string KeyPem, string CertPem) IssuePair(TestCa ca, string serverId)
    {
        using var key = ClientKey.Create();
        var now = DateTimeOffset.UtcNow;
        var cert = ca.SignClientCsr(ClientKey.CreateCsrPem(serverId, key), now.AddMinutes(-1), now.AddHours(1));
        return (key.ExportPkcs8PrivateKeyPem(), cert);
    }
}
