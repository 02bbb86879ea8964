using System.Net;
using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Settings;

/// <summary>
/// How the control plane reaches RabbitMQ, and the transport of servers created without an explicit one.
/// <see cref="EncryptedPassword"/> is the password sealed by SecretBox (ManagedServers.Shared.Security) (purpose
/// <see cref="PasswordPurpose"/>): grain state never holds it in plain text. An empty <see cref="Host"/> means
/// RabbitMQ is not configured; an empty <see cref="ManagementUrl"/> means <c>http://{host}:15672/</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.RabbitMqSettings")]
public sealed record RabbitMqSettings(
    [property: Id(0)] string Host,
    [property: Id(1)] int Port,
    [property: Id(2)] string VirtualHost,
    [property: Id(3)] string User,
    [property: Id(4)] string EncryptedPassword,
    [property: Id(5)] bool Tls,
    [property: Id(6)] string ManagementUrl,
    [property: Id(7)] CommunicationMode DefaultCommunication)
{
    /// <summary>The SecretBox (ManagedServers.Shared.Security) purpose of <see cref="EncryptedPassword"/>.</summary>
    public const string PasswordPurpose = "settings.rabbitmq.password";

    public const int DefaultPort = 5672;

    /// <summary>Not configured: no host, port 5672, vhost "/", servers default to push.</summary>
    public static RabbitMqSettings Default { get; } = new(string.Empty, DefaultPort, "/", string.Empty, string.Empty, false, string.Empty, CommunicationMode.Push);

    public bool IsConfigured => Host.Length > 0;

    public bool PasswordSet => EncryptedPassword.Length > 0;

    /// <summary>The management API's base URL: the configured one, else <c>http://{host}:15672/</c>.</summary>
    public string EffectiveManagementUrl => ManagementUrl.Length > 0 ? ManagementUrl : DefaultManagementUrl(Host);

    public static string DefaultManagementUrl(string host)
    {
        if (host.Length == 0)
        {
            return string.Empty;
        }

        var h = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
        return $"http://{h}:15672/";
    }
}

/// <summary>The RabbitMQ settings (key: "rabbitmq"). Seeded once from the silo's <c>RabbitMq</c> configuration section.</summary>
[Alias("ms.IRabbitMqSettingsGrain")]
public interface IRabbitMqSettingsGrain : IGrainWithStringKey
{
    /// <summary>The stored settings (password encrypted), or <see cref="RabbitMqSettings.Default"/>.</summary>
    [ReadOnly]
    Task<RabbitMqSettings> GetAsync();

    Task<RabbitMqSettings> SetAsync(RabbitMqSettings settings);
}
