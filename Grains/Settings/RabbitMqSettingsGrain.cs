using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ManagedServers.Grains.Settings;

[GenerateSerializer, Alias("ms.RabbitMqSettingsState")]
public sealed class RabbitMqSettingsState
{
    [Id(0)]
    public RabbitMqSettings? Settings { get; set; }
}

/// <summary>
/// The RabbitMQ settings. When nothing is stored yet and the silo's configuration has <c>RabbitMq:Host</c>,
/// the first activation seeds them from the <c>RabbitMq</c> section (Host, Port, VirtualHost, User, Password,
/// Tls, ManagementUrl), encrypting the password before it reaches grain state. The <see cref="SecretBox"/> is
/// resolved only then, so reading settings (every server creation does) never depends on the secret key.
/// </summary>
public sealed class RabbitMqSettingsGrain(
    [PersistentState("settings", GrainNames.Storage)] IPersistentState<RabbitMqSettingsState> store,
    IConfiguration configuration,
    IServiceProvider services)
    : Grain, IRabbitMqSettingsGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var section = configuration.GetSection("RabbitMq");
        if (store.State.Settings is null && !string.IsNullOrWhiteSpace(section["Host"])
            && FromConfiguration(section, services.GetRequiredService<SecretBox>()) is { } seeded)
        {
            store.State.Settings = seeded;
            await store.WriteStateAsync(cancellationToken);
        }
    }

    public Task<RabbitMqSettings> GetAsync() => Task.FromResult(store.State.Settings ?? RabbitMqSettings.Default);

    public async Task<RabbitMqSettings> SetAsync(RabbitMqSettings settings)
    {
        store.State.Settings = settings;
        await store.WriteStateAsync();
        return settings;
    }

    /// <summary>Settings from a <c>RabbitMq</c> configuration section, or null when it has no Host.</summary>
    internal static RabbitMqSettings? FromConfiguration(IConfiguration section, SecretBox secrets)
    {
        var host = section["Host"]?.Trim();
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        var port = int.TryParse(section["Port"], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : RabbitMqSettings.DefaultPort;
        var tls = bool.TryParse(section["Tls"], out var t) && t;
        return RabbitMqSettings.Default with
        {
            Host = host,
            Port = port,
            VirtualHost = section["VirtualHost"] is { Length: > 0 } vhost ? vhost : "/",
            User = section["User"] ?? string.Empty,
            EncryptedPassword = secrets.Protect(section["Password"] ?? string.Empty, RabbitMqSettings.PasswordPurpose),
            Tls = tls,
            ManagementUrl = section["ManagementUrl"] ?? string.Empty,
        };
    }
}
