using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams.Core;

namespace ManagedServers.Grains.Servers.Parts;

/// <summary>
/// A feature of the server grain (<see cref="ManagedServerGrain"/>, the shell): a plain class, created with each
/// activation, that owns its persisted state (<see cref="IServerHost.State{T}"/>), the reminders and timers it needs and
/// the data it keeps elsewhere (metric series). The shell calls every part at each step of the grain's life and routes
/// to the part the reminders and stream namespaces it names; nothing else knows which parts exist, so a new part is a
/// new folder and one registration (<see cref="ServerPartRegistration.AddServerPart{T}"/>).
/// <para>Calls reach a part on the grain's turn (one at a time, the grain's scheduler): a part never blocks, and work
/// that waits on the network runs off the turn and comes back as a grain call (the pull part does).</para>
/// </summary>
public interface IServerPart
{
    /// <summary>The reminders this part owns: their ticks come to <see cref="OnReminderAsync"/>; deletion unregisters them.</summary>
    IReadOnlyCollection<string> Reminders { get; }

    /// <summary>The ingestion stream namespaces this part takes (the shell's implicit subscriptions list them).</summary>
    IReadOnlyCollection<string> StreamNamespaces { get; }

    /// <summary>The grain activated on an existing server (states are loaded).</summary>
    Task OnActivateAsync(CancellationToken cancellationToken);

    /// <summary>The grain is deactivating: save what is worth saving, stop waiting.</summary>
    Task OnDeactivateAsync(CancellationToken cancellationToken);

    /// <summary>The server was created (<paramref name="before"/> null) or its definition changed (the new one is <see cref="IServerHost.Definition"/>).</summary>
    Task OnDefinitionChangedAsync(ServerDefinition? before);

    /// <summary>One of <see cref="Reminders"/> fired on an existing server.</summary>
    Task OnReminderAsync(string name);

    /// <summary>The stream of one of <see cref="StreamNamespaces"/> subscribed: resume it with this part's observer.</summary>
    Task OnSubscribedAsync(IStreamSubscriptionHandleFactory handles);

    /// <summary>The server is being deleted: clear the part's state, stop its timers, delete what it keeps elsewhere.</summary>
    Task OnDeleteAsync();
}

/// <summary>A part with nothing to do at each step unless it says so.</summary>
public abstract class ServerPart(IServerHost host) : IServerPart
{
    protected IServerHost Host => host;

    public virtual IReadOnlyCollection<string> Reminders => [];

    public virtual IReadOnlyCollection<string> StreamNamespaces => [];

    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task OnDeactivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task OnDefinitionChangedAsync(ServerDefinition? before) => Task.CompletedTask;

    public virtual Task OnReminderAsync(string name) => Task.CompletedTask;

    public virtual Task OnSubscribedAsync(IStreamSubscriptionHandleFactory handles) => Task.CompletedTask;

    public abstract Task OnDeleteAsync();
}

/// <summary>
/// A part type registered for the server grain (its order is the order parts are called in), with its constructor
/// compiled once: every activation creates its parts without reflection.
/// </summary>
public sealed record ServerPartType(Type Type)
{
    private readonly ObjectFactory _factory = ActivatorUtilities.CreateFactory(Type, [typeof(IServerHost)]);

    public IServerPart Create(IServiceProvider services, IServerHost host) => (IServerPart)_factory(services, [host]);
}

/// <summary>Registration of server grain parts.</summary>
public static class ServerPartRegistration
{
    /// <summary>Adds a part to every server grain; it is created with each activation from DI plus the <see cref="IServerHost"/>.</summary>
    public static IServiceCollection AddServerPart<T>(this IServiceCollection services)
        where T : class, IServerPart
    {
        if (!services.Any(d => d.ServiceType == typeof(ServerPartType) && d.ImplementationInstance is ServerPartType { } t && t.Type == typeof(T)))
        {
            services.AddSingleton(new ServerPartType(typeof(T)));
        }

        return services;
    }

    /// <summary>The parts every server grain has.</summary>
    public static IServiceCollection AddServerParts(this IServiceCollection services) => services
        .AddServerPart<Telemetry.TelemetryPart>()
        .AddServerPart<Pull.PullPart>()
        .AddServerPart<Versions.ConfigVersionsPart>()
        .AddServerPart<Dns.DnsPart>()
        .AddServerPart<Dhcp.DhcpPart>();
}
