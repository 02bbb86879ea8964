using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.State;

/// <summary>
/// The agent's state directory (mode 0700): <c>agent.json</c>, <c>key.pem</c> (0600), <c>cert.pem</c>,
/// <c>ca.pem</c>, <c>commands.json</c> and the monitoring sample spool <c>spool/</c>. Every file is written atomically.
/// </summary>
internal sealed class StateDirectory
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly Lock _writeLock = new();

    public StateDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }

    public string SettingsFile => Combine("agent.json");

    public string KeyFile => Combine("key.pem");

    public string CertificateFile => Combine("cert.pem");

    public string CaFile => Combine("ca.pem");

    public string CommandsFile => Combine("commands.json");

    /// <summary>The directory of one telemetry spool (<see cref="Monitoring.TelemetrySpool{T}"/>), mode 0700.</summary>
    public string SpoolDirectory<T>(Monitoring.SpoolFormat<T> format) => Combine(format.DirectoryName);

    /// <summary>Broker credentials of an AMQP agent (0600: it holds the agent's broker password).</summary>
    public string AmqpFile => Combine("amqp.json");

    /// <summary>Renewal writes the new pair here first, then renames cert and key into place.</summary>
    public string NewKeyFile => Combine("key.new.pem");

    public string NewCertificateFile => Combine("cert.new.pem");

    /// <summary>Creates the directory with mode 0700 (and tightens the mode if it already exists).</summary>
    public void EnsureCreated() => CreatePrivate(Path);

    /// <summary>Creates <paramref name="path"/> with mode 0700, or tightens an existing one to it.</summary>
    public static void CreatePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, DirectoryMode);
        File.SetUnixFileMode(path, DirectoryMode);
    }

    /// <summary>Writes everything enrolment produced. <c>agent.json</c> goes last: its presence means "enrolled".</summary>
    public void WriteEnrollment(AgentSettings settings, string keyPem, string certificatePem, string caPem)
    {
        lock (_writeLock)
        {
            EnsureCreated();
            AtomicFile.WriteAllText(KeyFile, keyPem, AtomicFile.OwnerOnly);
            AtomicFile.WriteAllText(CertificateFile, certificatePem, AtomicFile.OwnerWriteAllRead);
            AtomicFile.WriteAllText(CaFile, caPem, AtomicFile.OwnerWriteAllRead);
            AtomicFile.WriteAllBytes(SettingsFile, settings.ToJson(), AtomicFile.OwnerWriteAllRead);
            TryDelete(NewKeyFile);
            TryDelete(NewCertificateFile);
        }
    }

    /// <summary>Replaces the trusted CA certificates (a renewal during a CA rotation hands out the old and the new CA).</summary>
    public void WriteCaPem(string caPem)
    {
        lock (_writeLock)
        {
            AtomicFile.WriteAllText(CaFile, caPem, AtomicFile.OwnerWriteAllRead);
        }
    }

    /// <summary>Stores (or, with null, removes) the AMQP credentials; their presence makes <c>run</c> talk AMQP.</summary>
    public void WriteAmqp(AmqpCredentials? credentials)
    {
        lock (_writeLock)
        {
            EnsureCreated();
            if (credentials is null)
            {
                TryDelete(AmqpFile);
                return;
            }

            AtomicFile.WriteAllBytes(AmqpFile, JsonSerializer.SerializeToUtf8Bytes(credentials, ContractsJson.Default.AmqpCredentials), AtomicFile.OwnerOnly);
        }
    }

    /// <summary>The AMQP credentials, or null for an HTTPS agent.</summary>
    public AmqpCredentials? ReadAmqp()
    {
        if (!File.Exists(AmqpFile))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(AmqpFile), ContractsJson.Default.AmqpCredentials)
                ?? throw new AgentException($"{AmqpFile} is empty");
        }
        catch (JsonException e)
        {
            throw new AgentException($"{AmqpFile} is not valid: {e.Message}");
        }
    }

    public void WriteSettings(AgentSettings settings)
    {
        lock (_writeLock)
        {
            AtomicFile.WriteAllBytes(SettingsFile, settings.ToJson(), AtomicFile.OwnerWriteAllRead);
        }
    }

    public AgentSettings ReadSettings()
    {
        if (!File.Exists(SettingsFile))
        {
            throw new AgentException($"agent is not enrolled: {SettingsFile} not found (run 'enroll' first)");
        }

        return AgentSettings.Parse(ReadBytes(SettingsFile), SettingsFile);
    }

    public string ReadCaPem() => ReadText(CaFile);

    /// <summary>
    /// Writes a renewed key and certificate. Both are written next to the current pair first, then
    /// the certificate and the key are renamed into place; <see cref="LoadCredentials"/> picks the
    /// matching pair should the process die between the two renames.
    /// </summary>
    public void WriteRenewedCredentials(string keyPem, string certificatePem)
    {
        lock (_writeLock)
        {
            AtomicFile.WriteAllText(NewKeyFile, keyPem, AtomicFile.OwnerOnly);
            AtomicFile.WriteAllText(NewCertificateFile, certificatePem, AtomicFile.OwnerWriteAllRead);
            AtomicFile.Replace(NewCertificateFile, CertificateFile);
            AtomicFile.Replace(NewKeyFile, KeyFile);
        }
    }

    /// <summary>Loads the client certificate with its private key, checking that they belong together.</summary>
    public X509Certificate2 LoadCredentials()
    {
        lock (_writeLock)
        {
            var candidates = new[]
            {
                (Key: KeyFile, Cert: CertificateFile),
                (Key: NewKeyFile, Cert: CertificateFile),
                (Key: NewKeyFile, Cert: NewCertificateFile),
            };

            string? firstError = null;
            foreach (var (key, cert) in candidates)
            {
                if (!File.Exists(key) || !File.Exists(cert))
                {
                    continue;
                }

                try
                {
                    var loaded = X509Certificate2.CreateFromPem(ReadText(cert), ReadText(key));
                    FinishInterruptedRenewal(key, cert);
                    return loaded;
                }
                catch (CryptographicException e)
                {
                    firstError ??= $"{cert} and {key} do not form a usable certificate and key: {e.Message}";
                }
                catch (ArgumentException e)
                {
                    firstError ??= $"{cert} or {key} is not valid PEM: {e.Message}";
                }
            }

            throw new AgentException(firstError ?? $"no client certificate and key in {Path} (run 'enroll' first)");
        }
    }

    private void FinishInterruptedRenewal(string key, string cert)
    {
        if (cert == NewCertificateFile)
        {
            AtomicFile.Replace(NewCertificateFile, CertificateFile);
        }

        if (key == NewKeyFile)
        {
            AtomicFile.Replace(NewKeyFile, KeyFile);
        }
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);

    private static byte[] ReadBytes(string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"cannot read {file}: {e.Message}", e);
        }
    }

    private static string ReadText(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"cannot read {file}: {e.Message}", e);
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
        }
    }
}
