using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ManagedServers.Agent.Engines;

/// <summary>
/// One kind of managed service on this host (Knot DNS, Kea DHCPv4, Kea DHCPv6; backup later): the daemon and how to
/// tell its version, its image, where its configuration and control socket live, how to render a configuration to
/// start with, how to run and check it, and how to tell that it answers. The service manager, the runtimes and the
/// <see cref="ConfigApplier"/> are generic over engines; an engine is registered by DI
/// (<see cref="ServiceEngineServiceCollectionExtensions.AddServiceEngine{TEngine}"/>) and nothing else names its kind.
/// </summary>
internal interface IServiceEngine
{
    /// <summary>The service kind it runs (<c>dns</c>, <c>dhcp4</c>, …): the command arguments' and the API's name.</summary>
    string Kind { get; }

    /// <summary>The daemon's executable (exec runtime) and the process a person looks for.</summary>
    string Daemon { get; }

    /// <summary>The arguments that make <see cref="Daemon"/> print its version.</summary>
    IReadOnlyList<string> VersionArguments { get; }

    /// <summary>The image repository (Docker runtime); its tags are the versions.</summary>
    string Image { get; }

    /// <summary>The image label value (<c>managedservers.component</c>) that images of this engine carry.</summary>
    string Component { get; }

    /// <summary>The configuration file's name in <see cref="ServiceLayout.ConfDirectory"/>.</summary>
    string ConfigFileName { get; }

    /// <summary>The control socket's name in <see cref="ServiceLayout.RunDirectory"/>.</summary>
    string ControlSocketName { get; }

    /// <summary>
    /// Whether the configuration on disk is what the last applied change made live (Knot: <c>dns.apply</c>), so a
    /// restart or re-creation keeps it as it is; otherwise it is rendered again each time.
    /// </summary>
    bool KeepsAppliedConfig { get; }

    /// <summary>The version in the output of <see cref="Daemon"/> with <see cref="VersionArguments"/>, or null.</summary>
    string? ParseVersion(string output);

    /// <summary>Checks and normalises install listen entries (<c>address@port</c>); throws <see cref="ArgumentException"/>, also when the service takes none.</summary>
    IReadOnlyList<string> ValidateListen(IReadOnlyList<string> listen);

    /// <summary>
    /// The configuration a service starts with when installed or re-created (<paramref name="runtime"/> null: do not
    /// ask the runtime about optional modules), and a phrase for the steps describing it.
    /// </summary>
    Task<RenderedConfig> RenderAsync(ServiceLayout layout, InstalledService record, IServiceRuntime? runtime, CancellationToken cancellationToken);

    /// <summary>How to run the service and check its configuration (the configuration already written).</summary>
    ServiceSpec SpecOf(ServiceLayout layout, InstalledService record);

    /// <summary>One "does it answer?" probe of a running service, as installed.</summary>
    Task<ProbeResult> ProbeAsync(ServiceLayout layout, InstalledService record, CancellationToken cancellationToken);

    /// <summary>Where diagnostics reach the service.</summary>
    ServiceEndpoints Endpoints(ServiceLayout layout, InstalledService record);

    /// <summary>What the service listens on, for its status line; null when it has no listen entries.</summary>
    string? ListenDisplay(ServiceLayout layout, InstalledService record);
}

/// <summary>A rendered configuration and a phrase saying what it holds ("DNS configuration version 3, 12 zone(s)").</summary>
internal sealed record RenderedConfig(string Text, string? Description = null);

/// <summary>The engines this agent runs, by kind.</summary>
internal sealed class ServiceEngines
{
    private readonly Dictionary<string, IServiceEngine> _byKind;

    public ServiceEngines(IEnumerable<IServiceEngine> engines)
    {
        _byKind = new Dictionary<string, IServiceEngine>(StringComparer.Ordinal);
        foreach (var engine in engines)
        {
            if (!_byKind.TryAdd(engine.Kind, engine))
            {
                throw new InvalidOperationException($"two service engines for kind '{engine.Kind}'");
            }
        }
    }

    /// <summary>Knot DNS, Kea DHCPv4 and Kea DHCPv6.</summary>
    public static ServiceEngines BuiltIn { get; } = new([KnotEngine.Instance, KeaEngine.V4, KeaEngine.V6]);

    /// <summary>The kinds, in registration order.</summary>
    public IReadOnlyList<string> Kinds => [.. _byKind.Keys];

    public IEnumerable<IServiceEngine> All => _byKind.Values;

    public bool IsKnown(string kind) => _byKind.ContainsKey(kind);

    public IServiceEngine? Find(string kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>The engine of <paramref name="kind"/>; throws <see cref="ServiceRuntimeException"/> naming the known kinds.</summary>
    public IServiceEngine Get(string kind) =>
        Find(kind) ?? throw new ServiceRuntimeException($"unknown service kind '{kind}' (known: {string.Join(", ", Kinds)})");

    /// <summary>Where a service of <paramref name="kind"/> lives under <paramref name="servicesRoot"/>.</summary>
    public ServiceLayout Layout(string servicesRoot, string kind) => ServiceLayout.For(servicesRoot, Get(kind));
}

/// <summary>Registers service engines.</summary>
internal static class ServiceEngineServiceCollectionExtensions
{
    /// <summary>Adds an engine; <see cref="ServiceEngines"/> (registered once) collects every one.</summary>
    public static IServiceCollection AddServiceEngine<TEngine>(this IServiceCollection services)
        where TEngine : class, IServiceEngine
    {
        services.AddSingleton<IServiceEngine, TEngine>();
        services.TryAddSingleton(sp => new ServiceEngines(sp.GetServices<IServiceEngine>()));
        return services;
    }

    /// <summary>Adds the built-in engines (<see cref="ServiceEngines.BuiltIn"/>).</summary>
    public static IServiceCollection AddBuiltInServiceEngines(this IServiceCollection services)
    {
        foreach (var engine in ServiceEngines.BuiltIn.All)
        {
            services.AddServiceEngine(engine);
        }

        return services;
    }

    /// <summary>Adds an engine instance.</summary>
    public static IServiceCollection AddServiceEngine(this IServiceCollection services, IServiceEngine engine)
    {
        services.AddSingleton(engine);
        services.TryAddSingleton(sp => new ServiceEngines(sp.GetServices<IServiceEngine>()));
        return services;
    }
}
