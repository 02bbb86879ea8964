using ManagedServers.Api.Broker;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// The silo's own connection to RabbitMQ (configuration section <c>RabbitMq</c>). When <see cref="Host"/>
/// is set, the ingestion stream is the RabbitMQ-backed persistent stream; otherwise it is in memory.
/// </summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string? Host { get; set; }

    public int Port { get; set; } = 5672;

    public string VirtualHost { get; set; } = "/";

    public string User { get; set; } = "guest";

    public string Password { get; set; } = "guest";

    public bool Tls { get; set; }

    /// <summary>Partition queues <c>ms.ingest.0..N-1</c>. Fixed per deployment: every silo and every agent must agree.</summary>
    public int Partitions { get; set; } = AmqpTopology.DefaultPartitions;

    /// <summary>Unacknowledged deliveries a silo holds per partition queue (AMQP QoS): at least a pulling batch.</summary>
    public ushort Prefetch { get; set; } = 1000;

    /// <summary>Longest wait between reconnection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Management API, for provisioning agent users (default <c>http://{host}:15672/</c>).</summary>
    public string? ManagementUrl { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    /// <summary>The same connection in the form the API's broker code uses.</summary>
    public BrokerConnection ToBrokerConnection() =>
        new(Host!, Port, VirtualHost, User, Password, Tls, ManagementUrl ?? $"http://{Host}:15672/");

    /// <summary>Reads the section; returns null when RabbitMQ is not configured.</summary>
    public static RabbitMqOptions? From(IConfiguration configuration)
    {
        var options = new RabbitMqOptions();
        configuration.GetSection(Section).Bind(options);
        if (!options.Enabled)
        {
            return null;
        }

        if (options.Partitions is < 1 or > 1024)
        {
            throw new InvalidOperationException($"RabbitMq:Partitions must be between 1 and 1024 (is {options.Partitions})");
        }

        return options;
    }
}
