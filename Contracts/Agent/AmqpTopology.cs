using System.Text.RegularExpressions;

namespace ManagedServers.Contracts.Agent;

/// <summary>
/// Names of the RabbitMQ topology shared by the control plane and the agents.
/// <list type="bullet">
/// <item>Agents publish to the topic exchange <see cref="IngestExchange"/> with routing key
/// <c>p{partition}.{serverId}.{kind}</c>; partition queue <c>ms.ingest.{partition}</c> binds <c>p{partition}.#</c>,
/// so all of one server's messages land in one queue, in order. The control plane hands each agent its
/// routing-key prefix, so agents never compute partitions.</item>
/// <item>Command results travel the same way (kind <see cref="ResultKind"/>): the server's ingestion
/// partition is its reply queue, acknowledged only after the server's grain has taken the result.</item>
/// <item>Commands go to the direct exchange <see cref="CommandExchange"/> with routing key = server id,
/// bound to the agent's own durable queue <c>ms.cmd.{serverId}</c>.</item>
/// </list>
/// Queue and exchange names never change once deployed: the number of partitions is fixed per deployment.
/// </summary>
public static partial class AmqpTopology
{
    public const string IngestExchange = "ms.ingest";
    public const string IngestQueuePrefix = "ms.ingest.";
    public const string DeadLetterExchange = "ms.ingest.dlx";
    public const string DeadLetterQueue = "ms.ingest.dead";
    public const string CommandExchange = "ms.commands";
    public const string CommandQueuePrefix = "ms.cmd.";

    /// <summary>Message kinds (last routing-key segment; also the AMQP <c>type</c> property).</summary>
    public const string HeartbeatKind = "heartbeat";
    public const string ResultKind = "result";
    public const string MetricsKind = "metrics";
    public const string DnsMetricsKind = "dns-metrics";
    public const string DhcpMetricsKind = "dhcp-metrics";

    /// <summary>Partition queues when <c>RabbitMq:Partitions</c> is not set.</summary>
    public const int DefaultPartitions = 8;

    /// <summary>Prefix of broker user names of agents: <c>ms-agent-{serverId}</c>.</summary>
    public const string AgentUserPrefix = "ms-agent-";

    public static string IngestQueue(int partition) => IngestQueuePrefix + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string PartitionBinding(int partition) => "p" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".#";

    public static string RoutingKeyPrefix(int partition, string serverId) => "p" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + serverId;

    public static string RoutingKey(string prefix, string kind) => prefix + "." + kind;

    public static string CommandQueue(string serverId) => CommandQueuePrefix + serverId;

    public static string AgentUser(string serverId) => AgentUserPrefix + serverId;

    /// <summary>Parses <c>p{partition}.{serverId}.{kind}</c>; server ids contain no dots.</summary>
    public static bool TryParseRoutingKey(string routingKey, out int partition, out string serverId, out string kind)
    {
        var match = RoutingKeyPattern().Match(routingKey);
        if (!match.Success)
        {
            partition = -1;
            serverId = kind = string.Empty;
            return false;
        }

        partition = int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
        serverId = match.Groups[2].Value;
        kind = match.Groups[3].Value;
        return true;
    }

    /// <summary>
    /// Stable partition of a server id (FNV-1a over UTF-16 code units, like the fleet index shards):
    /// the same id always maps to the same queue, on every silo and across restarts.
    /// </summary>
    public static int PartitionOf(string serverId, int partitions)
    {
        var hash = 2166136261u;
        foreach (var c in serverId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    [GeneratedRegex(@"^p(\d{1,4})\.([^.]+)\.([a-z][a-z0-9-]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex RoutingKeyPattern();
}

/// <summary>What an agent needs to talk AMQP, handed out at enrolment and renewal (the password is the agent's own).</summary>
public sealed record AmqpCredentials(
    string Host,
    int Port,
    string VirtualHost,
    string User,
    string Password,
    bool Tls,
    string RoutingKeyPrefix,
    string CommandQueue);
