using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>Registration of the diagnostics, the debug bundle and the agent log file (<c>run</c>).</summary>
internal static class DiagnosticsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the checks, <see cref="DiagnosticsRunner"/>, <see cref="DebugBundleBuilder"/>, the two command handlers and
    /// the rolling log file <c>STATE_DIR/logs/agent.log</c>. Expects <see cref="Http.AgentConnection"/>, <see cref="Hosting.AgentRuntimeSettings"/>,
    /// <see cref="Hosting.RenewalSchedule"/> and <see cref="TimeProvider"/>; registers an empty
    /// <see cref="IServiceInventory"/> unless one is registered.
    /// </summary>
    public static IServiceCollection AddDiagnostics(this IServiceCollection services, StateDirectory state)
    {
        services.AddSingleton<ILoggerProvider>(_ => new RollingFileLoggerProvider(Path.Combine(state.Path, RollingFileLoggerProvider.DirectoryName)));

        services.TryAddSingleton<IServiceInventory, EmptyServiceInventory>();
        services.AddSingleton<ControlPlaneProbe>();
        services.AddSingleton<IDiagnosticCheckSource>(sp => new ServiceChecks(sp.GetRequiredService<IServiceInventory>(), sp.GetRequiredService<Hosting.AgentRuntimeSettings>().ServerId));
        services.AddSingleton<IDiagnosticCheck>(_ => new DiskSpaceCheck("/", "/"));
        services.AddSingleton<IDiagnosticCheck>(_ => new DiskSpaceCheck("state directory", state.Path));
        services.AddSingleton<IDiagnosticCheck, ControlPlaneCheck>();
        services.AddSingleton<IDiagnosticCheck, ClockSkewCheck>();
        services.AddSingleton<IDiagnosticCheck, CertificateCheck>();
        services.AddSingleton<IDiagnosticCheck, BrokerCheck>();
        services.AddSingleton<IDiagnosticCheck, RuntimeCheck>();
        services.AddSingleton<DiagnosticsRunner>();
        services.AddSingleton<DebugBundleBuilder>();
        services.AddSingleton<ICommandHandler, DiagnosticsCommandHandler>();
        services.AddSingleton<ICommandHandler, DebugBundleCommandHandler>();
        return services;
    }
}
