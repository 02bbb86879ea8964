using System.Net;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Monitoring;
using ManagedServers.Grains.Servers;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts;
using ManagedServers.Shared.Security;
using ManagedServers.Silo.Monitoring;
using ManagedServers.Silo.Storage;
using ManagedServers.Silo.Streaming;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace ManagedServers.Silo;

/// <summary>
/// The silo's configuration, shared by the host (Program) and the test clusters so both run the
/// same providers: storage and reminders (SQLite embedded or PostgreSQL), clustering, the
/// and the ingestion stream.
/// </summary>
public static class SiloConfiguration
{
    /// <summary>Storage from configuration: <c>ConnectionStrings:Postgres</c> selects cluster mode, else SQLite under <c>DataDir</c>.</summary>
    public static StorageConfig StorageFrom(IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        return string.IsNullOrWhiteSpace(postgres)
            ? StorageConfig.Sqlite(configuration["DataDir"] ?? ".data")
            : StorageConfig.Postgres(postgres);
    }

    /// <summary>
    /// The ingestion stream: RabbitMQ-backed and persistent when <c>RabbitMq:Host</c> is set, in memory
    /// otherwise (the embedded default, where agents post over HTTPS). Same provider name and
    /// namespaces either way, so grains and the HTTPS endpoint do not know which is in use.
    /// </summary>
    public static ISiloBuilder AddIngestStream(this ISiloBuilder silo, IConfiguration configuration)
    {
        var rabbit = RabbitMqOptions.From(configuration);
        if (rabbit is null)
        {
            // Implicit subscriptions only, as with RabbitMQ below: no pub/sub rendezvous state per server and namespace.
            silo.AddMemoryStreams(StreamNames.IngestProvider, stream => stream.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly));
            silo.Services.AddSingleton<IAgentCommandChannel, NoAgentCommandChannel>();
            return silo;
        }

        silo.Services.AddSingleton(rabbit);
        silo.Services.AddSingleton<RabbitMqConnection>();
        silo.Services.AddSingleton<RabbitMqPublisher>();
        silo.Services.AddSingleton<IAgentCommandChannel, RabbitMqCommandChannel>();
        silo.AddPersistentStreams(StreamNames.IngestProvider, RabbitMqAdapterFactory.Create, stream =>
        {
            stream.UseConsistentRingQueueBalancer();

            // Grains subscribe implicitly (by namespace): no per-stream pub/sub rendezvous grain and
            // PubSubStore write for each of tens of thousands of servers.
            stream.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
            stream.ConfigurePullingAgent(options => options.Configure(o =>
            {
                o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(50);
                o.BatchContainerBatchSize = 16;
            }));
        });
        return silo;
    }

    public static ISiloBuilder ConfigureManagedServers(this ISiloBuilder silo, IConfiguration configuration, StorageConfig storage, bool configureClustering = true)
    {
        var siloPort = configuration.GetValue("Orleans:SiloPort", 11111);
        var gatewayPort = configuration.GetValue("Orleans:GatewayPort", 30000);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = configuration["Orleans:ClusterId"] ?? "managedservers";
            o.ServiceId = configuration["Orleans:ServiceId"] ?? "managedservers";
        });
        if (configureClustering)
        {
            if (storage.Mode == StorageMode.Sqlite)
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort);
            }
            else
            {
                var advertisedText = configuration["Orleans:AdvertisedIP"] ?? "127.0.0.1";
                var advertised = IPAddress.TryParse(advertisedText, out var ip)
                    ? ip
                    : Dns.GetHostAddresses(advertisedText).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
                silo.UseManagedServersClustering(storage);
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: configuration.GetValue("Orleans:ListenOnAny", false));
            }
        }

        silo.UseManagedServersStorage(storage);
        silo.AddIngestStream(configuration);

        // Events grains announce (job changes): in memory, explicit subscriptions (API event streams, later the web UI).
        silo.AddMemoryStreams(StreamNames.EventsProvider);
        silo.Services.AddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<IMetricsStore>(sp => new SqlMetricsStore(storage, sp.GetRequiredService<ILogger<SqlMetricsStore>>()));
        silo.Services.AddServerParts();
        silo.Services.AddJobHandlers();

        // Pull mode: no puller unless the host adds one (Program: Pull.PullSetup.AddAgentPuller, which needs the CA).
        silo.Services.TryAddSingleton<IAgentPuller, NoAgentPuller>();
        silo.Services.TryAddSingleton<IAgentBrokerUsers, NoAgentBrokerUsers>(); // the API host adds the RabbitMQ one

        // Secrets the control plane reads back (the RabbitMQ password). Clusters must set Secrets:Key on every silo.
        silo.Services.AddSingleton(_ => ManagedServers.Shared.Security.SecretBox.Load(configuration["Secrets:Key"], configuration["DataDir"] ?? ".data"));
        silo.Services.Configure<ServerGrainOptions>(configuration.GetSection("ServerGrain"));
        if (configuration.GetValue<TimeSpan?>("Orleans:MinimumReminderPeriod") is { } minimum)
        {
            // Tests only: fast reminders, and a fast re-read of the reminder table after membership changes.
            silo.Services.Configure<ReminderOptions>(o =>
            {
                o.MinimumReminderPeriod = minimum;
                o.RefreshReminderListPeriod = TimeSpan.FromSeconds(5);
            });
        }

        return silo;
    }
}
