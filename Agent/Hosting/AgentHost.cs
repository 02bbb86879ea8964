using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Diagnostics;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Security;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.Startup;
using ManagedServers.Agent.State;
using ManagedServers.Agent.Transport;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Hosting;

/// <summary><c>run --state-dir DIR</c>: the Generic Host with the heartbeat, command and renewal loops.</summary>
internal static class AgentHost
{
    private static readonly string[] ServiceActionKinds =
    [
        ManagedServers.Contracts.Agent.CommandKinds.ServiceStart,
        ManagedServers.Contracts.Agent.CommandKinds.ServiceStop,
        ManagedServers.Contracts.Agent.CommandKinds.ServiceRestart,
        ManagedServers.Contracts.Agent.CommandKinds.ServiceRemove,
    ];

    /// <summary>
    /// Builds the host from the state directory. Throws <see cref="AgentException"/> when the state is
    /// missing or unusable. <paramref name="configure"/> lets tests replace services (e.g. TimeProvider).
    /// </summary>
    public static IHost Build(AgentRunOptions options, Action<HostApplicationBuilder>? configure = null)
    {
        var state = new StateDirectory(options.StateDir);
        var initial = state.ReadSettings();
        var agentUri = AgentEndpoints.ParseAgentUrl(initial.AgentUrl, state.SettingsFile);
        var trust = CaTrust.FromPem(state.ReadCaPem(), state.CaFile);
        var certificate = state.LoadCredentials();
        var amqp = state.ReadAmqp();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "ManagedServers.Agent",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Services.AddSystemd(); // systemd lifetime and journal-friendly log format when run as a unit
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(state);
        services.AddSingleton(trust);
        services.AddSingleton(sp => new AgentRuntimeSettings(initial, sp.GetRequiredService<StateDirectory>()));
        services.AddSingleton(sp => new AgentInfo(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AgentExit>();
        services.AddSingleton(sp => new AgentConnection(agentUri, trust, certificate, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var store = new CompletedCommandStore(state.CommandsFile, options.CompletedCommandCapacity);
            if (store.LoadError is { } error)
            {
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<CompletedCommandStore>().CommandStoreUnreadable(error);
            }

            return store;
        });
        services.AddSingleton<CommandProgressBoard>();
        services.AddSingleton<CommandExecutor>();
        services.AddSingleton<ICommandHandler, PingCommandHandler>();
        services.AddSingleton<ICommandHandler, ConfigureCommandHandler>();
        services.AddSingleton(new RenewalSchedule(options.RenewalFraction));

        // Services (knot, kea): one engine per kind; one runtime for all, chosen by the first install and kept in services.json.
        services.AddSingleton(new ServiceManagerOptions
        {
            StateDirectory = state.Path,
            ServerId = initial.ServerId,
            DockerHost = options.DockerHost,
            ExecBinDirectory = options.ServiceBinDirectory,
        });
        services.AddBuiltInServiceEngines();
        services.AddSingleton(sp =>
        {
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var managerOptions = sp.GetRequiredService<ServiceManagerOptions>();
            var engines = sp.GetRequiredService<ServiceEngines>();
            return new ServiceManager(
                managerOptions,
                name => name == ManagedServers.Contracts.Agent.RuntimeNames.Docker
                    ? new DockerRuntime(managerOptions.ServerId, managerOptions.DockerHost, loggers.CreateLogger<DockerRuntime>(), engines)
                    : new ExecRuntime(managerOptions.ExecBinDirectory, loggers.CreateLogger<ExecRuntime>(), engines),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ServiceManager>>(),
                engines);
        });
        services.AddSingleton<IServiceInventory>(sp => sp.GetRequiredService<ServiceManager>());
        services.AddHostedService<ServiceSupervisor>();
        services.AddSingleton<ICommandHandler, ServiceInstallCommandHandler>();
        foreach (var kind in ServiceActionKinds)
        {
            services.AddSingleton<ICommandHandler>(sp => ServiceActionCommandHandler.Create(kind, sp.GetRequiredService<ServiceManager>(), sp.GetRequiredService<TimeProvider>()));
        }

        // dns.apply, and knotc for it and for DNS monitoring (one control connection at a time).
        services.AddSingleton<ManagedServers.Agent.Dns.KnotControl>();
        services.AddSingleton<ManagedServers.Agent.Dns.DnsApplier>();
        services.AddSingleton<ICommandHandler, DnsApplyCommandHandler>();
        services.AddSingleton<ICommandHandler, Dhcp.DhcpApplyCommandHandler>();
        services.AddSingleton<ICommandHandler, Dhcp.DhcpLeasesCommandHandler>();
        services.AddSingleton<ICommandHandler, Dhcp.DhcpLeaseDeleteCommandHandler>();
        services.AddSingleton<ICommandHandler, Dhcp.DhcpStatusCommandHandler>();
        services.AddSingleton<ICommandHandler, Dhcp.DhcpHaMaintenanceCommandHandler>();

        services.AddDiagnostics(state); // checks, debug bundle, STATE_DIR/logs/agent.log
        if (amqp is null)
        {
            services.AddHostedService<HeartbeatService>();
            services.AddHostedService<CommandService>();
            services.AddSingleton(typeof(ITelemetrySender<>), typeof(HttpsTelemetrySender<>));
        }
        else
        {
            // Heartbeats, commands, results and metrics over RabbitMQ.
            services.AddSingleton<AmqpAgentService>();
            services.AddHostedService(sp => sp.GetRequiredService<AmqpAgentService>());
            services.AddSingleton(typeof(ITelemetrySender<>), typeof(AmqpTelemetrySender<>));
        }

        services.AddHostedService<RenewalService>();

        // System monitoring: the collectors and the latest sample; the endpoint only when asked for.
        services.AddSingleton(sp => SystemCollectors.CreateDefault(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SystemCollectors>>()));
        services.AddSingleton<LatestSample>();
        services.AddTelemetryPipeline(TelemetryPipelines.System, state);
        services.AddHostedService<MonitoringService>();

        // DNS monitoring: Knot's counters and dnstap name hits, spooled per interval.
        services.AddTelemetryPipeline(TelemetryPipelines.Dns, state);
        services.AddHostedService(sp => new DnsMonitoringService(
            sp.GetRequiredService<TelemetrySpool<ManagedServers.Contracts.Agent.DnsMetricsBatch>>(),
            sp.GetRequiredService<IServiceInventory>(),
            sp.GetRequiredService<ServiceManagerOptions>(),
            sp.GetRequiredService<AgentRuntimeSettings>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DnsMonitoringService>>(),
            new ManagedServers.Agent.Dns.KnotControlStatsReader(sp.GetRequiredService<ManagedServers.Agent.Dns.KnotControl>()),
            zoneSource: new ManagedServers.Agent.Dns.AppliedZoneSource(sp.GetRequiredService<ServiceManagerOptions>())));

        // DHCP monitoring: Kea's statistics per interval.
        services.AddTelemetryPipeline(TelemetryPipelines.Dhcp, state);
        services.AddSingleton<LatestDhcp>();
        services.AddHostedService<DhcpMonitoringService>();
        if (options.MetricsListen is { } metricsListen)
        {
            services.AddSingleton(sp =>
            {
                var latest = sp.GetRequiredService<LatestSample>();
                var dhcp = sp.GetRequiredService<LatestDhcp>();
                return new PrometheusEndpoint(metricsListen, () => PrometheusText.Format(latest.Current) + PrometheusText.FormatDhcp(dhcp.Current), sp.GetRequiredService<ILogger<PrometheusEndpoint>>());
            });
            services.AddHostedService(sp => sp.GetRequiredService<PrometheusEndpoint>());
        }

        if (options.PullListen is { } pullListen)
        {
            // Pull mode: the control plane fetches the spool over mutual TLS; MonitoringService then pushes no samples.
            services.AddSingleton(sp =>
            {
                var connection = sp.GetRequiredService<AgentConnection>();
                return new PullEndpoint(
                    pullListen,
                    sp.GetRequiredService<TelemetrySpool<ManagedServers.Contracts.Agent.SystemSample>>(),
                    sp.GetRequiredService<AgentInfo>(),
                    sp.GetRequiredService<AgentRuntimeSettings>(),
                    sp.GetRequiredService<CaTrust>(),
                    () => connection.ClientCertificate,
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<PullEndpoint>>());
            });
            services.AddHostedService(sp => sp.GetRequiredService<PullEndpoint>());
        }

        configure?.Invoke(builder);
        var host = builder.Build();

        var info = host.Services.GetRequiredService<AgentInfo>();
        info.MetricsAddress = options.MetricsListen?.ToString();
        info.Services = host.Services.GetRequiredService<IServiceInventory>();
        host.Services.GetRequiredService<ServiceManager>().StateChanged = info.NudgeHeartbeat;
        var progress = host.Services.GetRequiredService<CommandProgressBoard>();
        info.Progress = progress;
        progress.Changed = info.NudgeHeartbeat;
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ManagedServers.Agent")
            .AgentStarting(AgentInfo.Version, initial.ServerName, initial.ServerId, initial.AgentUrl, info.BootId);
        return host;
    }

    /// <summary>Runs until SIGTERM/SIGINT or refusal; returns the process exit code.</summary>
    public static async Task<int> RunAsync(AgentRunOptions options, TextWriter stderr)
    {
        IHost host;
        try
        {
            host = Build(options);
        }
        catch (AgentException e)
        {
            await stderr.WriteLineAsync($"run failed: {e.Message}");
            return AgentProgram.ExitFailure;
        }

        // RunAsync disposes the host (and its services): take the exit holder first.
        var exit = host.Services.GetRequiredService<AgentExit>();
        await host.RunAsync();
        return exit.Code;
    }
}
