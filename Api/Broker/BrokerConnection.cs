using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Shared.Security;
using RabbitMQ.Client;

namespace ManagedServers.Api.Broker;

/// <summary>
/// Where and as whom the control plane connects to RabbitMQ, with the password in clear: lives only in memory,
/// for the duration of a call. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed record BrokerConnection(string Host, int Port, string VirtualHost, string User, string Password, bool Tls, string ManagementUrl)
{
    /// <summary>The stored settings with their password decrypted.</summary>
    /// <exception cref="BrokerUnavailableException">The password cannot be decrypted with this silo's key.</exception>
    public static BrokerConnection From(RabbitMqSettings settings, SecretBox secrets) =>
        new(settings.Host, settings.Port, settings.VirtualHost, settings.User, DecryptPassword(settings, secrets), settings.Tls, settings.EffectiveManagementUrl);

    /// <summary>The stored password in clear ("" when none).</summary>
    /// <exception cref="BrokerUnavailableException">It cannot be decrypted with this silo's key.</exception>
    public static string DecryptPassword(RabbitMqSettings settings, SecretBox secrets)
    {
        try
        {
            return secrets.Unprotect(settings.EncryptedPassword, RabbitMqSettings.PasswordPurpose);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
        {
            throw new BrokerUnavailableException("the stored RabbitMQ password cannot be decrypted with this silo's secret key (do all silos share Secrets:Key?); set the password again", ex);
        }
    }

    /// <summary>"host:port" (IPv6 in brackets).</summary>
    public string Address => (Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host) + ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An AMQP connection factory for these settings: no automatic recovery, bounded handshake.</summary>
    public ConnectionFactory Factory(TimeSpan timeout, string clientName) => new()
    {
        HostName = Host,
        Port = Port,
        VirtualHost = VirtualHost,
        UserName = User,
        Password = Password,
        Ssl = new SslOption { Enabled = Tls, ServerName = Host },
        RequestedConnectionTimeout = timeout,
        HandshakeContinuationTimeout = timeout,
        ContinuationTimeout = timeout,
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
        ClientProvidedName = clientName,
    };

    public override string ToString() => $"{User}@{Address} vhost {VirtualHost}{(Tls ? " (TLS)" : string.Empty)}";
}

/// <summary>Where <see cref="AgentBrokerAccounts"/> finds the broker settings (the settings grain in the silo; fixed ones in tests).</summary>
public interface IBrokerSettingsSource
{
    /// <summary>The settings, or null when RabbitMQ is not configured.</summary>
    Task<BrokerConnection?> GetAsync(CancellationToken cancellationToken);
}

/// <summary>Reads the settings grain and decrypts the password.</summary>
public sealed class GrainBrokerSettingsSource(IGrainFactory grains, SecretBox secrets) : IBrokerSettingsSource
{
    public async Task<BrokerConnection?> GetAsync(CancellationToken cancellationToken)
    {
        var settings = await grains.GetGrain<IRabbitMqSettingsGrain>(RabbitMqSettingsKey).GetAsync();
        return settings.IsConfigured ? BrokerConnection.From(settings, secrets) : null;
    }

    public const string RabbitMqSettingsKey = "rabbitmq";
}

/// <summary>RabbitMQ could not be reached or refused what the control plane asked; the message is one readable sentence.</summary>
public sealed class BrokerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
