using ManagedServers.Grains.Interfaces.Settings;

namespace ManagedServers.Grains.Servers.Parts;

/// <summary>What the server grain (the shell) offers its parts. Every member is for use on the grain's turn.</summary>
public interface IServerHost
{
    /// <summary>The server id (the grain key).</summary>
    string Id { get; }

    IGrainFactory GrainFactory { get; }

    /// <summary>The server's definition, or null when the server does not exist (never created, or deleted).</summary>
    ServerDefinition? Definition { get; }

    /// <summary>The monitoring settings as last read (at most a few seconds old after <see cref="RefreshSettingsAsync"/>).</summary>
    MonitoringSettings Settings { get; }

    /// <summary>The definition, or <see cref="NotFoundException"/> when the server does not exist.</summary>
    ServerDefinition RequireDefinition();

    /// <summary>Re-reads the monitoring settings when the copy is older than a few seconds.</summary>
    Task RefreshSettingsAsync();

    /// <summary>
    /// A persistent state of the part, in the grain storage, named <paramref name="name"/> (unique within the grain):
    /// call it from the part's constructor only (states load before activation).
    /// </summary>
    IPersistentState<T> State<T>(string name)
        where T : new();

    /// <summary>A grain timer (it runs on the grain's turn).</summary>
    IGrainTimer RegisterTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options);

    /// <summary>Registers (or updates) a reminder; name it in the part's <see cref="IServerPart.Reminders"/>.</summary>
    Task RegisterReminderAsync(string name, TimeSpan period);

    /// <summary>Unregisters a reminder when it exists.</summary>
    Task UnregisterReminderAsync(string name);

    /// <summary>Pushes the server's summary to the fleet index now (a part changed what fleet-wide lists show).</summary>
    Task PublishAsync();

    /// <summary>Another part of this grain (parts may depend on parts; the shell knows none of it).</summary>
    T Part<T>()
        where T : class, IServerPart;
}
