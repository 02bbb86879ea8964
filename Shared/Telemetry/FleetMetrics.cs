using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Shared.Telemetry;

/// <summary>
/// The control plane's own instruments, on the meter <see cref="MeterName"/>, exported at the silo's
/// <c>/metrics</c> (docs/prometheus.md lists the Prometheus names). Static so that the ingestion
/// receiver, the HTTPS endpoints and the fleet summary all record into one meter without plumbing.
/// Observable instruments read values kept here; their callbacks never call a grain or the broker.
/// </summary>
public static class FleetMetrics
{
    public const string MeterName = "ManagedServers";

    /// <summary>Transport tag: published by the agent to RabbitMQ.</summary>
    public const string Amqp = "amqp";

    /// <summary>Transport tag: posted by the agent to the HTTPS agent listener.</summary>
    public const string Https = "https";

    /// <summary>Transport tag: pulled by the control plane from the agent's pull endpoint (pull mode).</summary>
    public const string Pull = "pull";

    /// <summary>Dead-letter reason: the message did not parse or was published under another server's name.</summary>
    public const string Invalid = "invalid";

    /// <summary>Dead-letter reason: the grain failed to take the message.</summary>
    public const string DeliveryFailed = "delivery_failed";

    private static readonly Meter Meter = new(MeterName, typeof(FleetMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> IngestMessages = Meter.CreateCounter<long>(
        "managedservers.ingest.messages",
        "{message}",
        "Ingestion messages taken in from agents, by kind and by the transport they arrived on (AMQP: when handed to Orleans, redeliveries included)");

    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>(
        "managedservers.ingest.dead_lettered",
        "{message}",
        "Ingestion messages rejected to the dead-letter exchange, by reason (invalid, delivery_failed)");

    private static readonly Counter<long> SamplesStoredCounter = Meter.CreateCounter<long>(
        "managedservers.samples.stored",
        "{sample}",
        "System samples stored by server grains on this silo (duplicates of a retried batch are not counted)");

    private static readonly Counter<long> SamplesDuplicateCounter = Meter.CreateCounter<long>(
        "managedservers.samples.duplicates",
        "{sample}",
        "System samples that were already stored (retries after a lost answer or a redelivery) and were skipped");

    private static readonly ConcurrentDictionary<string, QueueGauges> Queues = new(StringComparer.Ordinal);
    private static FleetCounts? _agents;

    static FleetMetrics()
    {
        Meter.CreateObservableGauge(
            "managedservers.agents",
            ObserveAgents,
            "{agent}",
            "Managed servers by agent state and server kind, from the fleet index (refreshed every 15 s by default)");
        Meter.CreateObservableGauge(
            "managedservers.ingest.backlog",
            () => ObserveQueues(static q => q.Backlog()),
            "{message}",
            "Messages ready in a partition queue of this silo (the broker's count, polled every 15 s)");
        Meter.CreateObservableGauge(
            "managedservers.ingest.buffered",
            () => ObserveQueues(static q => q.Buffered()),
            "{message}",
            "Messages of a partition queue delivered to this silo and not yet handed to grains");
    }

    /// <summary>One ingestion message of <paramref name="kind"/> (heartbeat, result, metrics) arrived on <paramref name="transport"/>.</summary>
    public static void IngestReceived(string kind, string transport) =>
        IngestMessages.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("transport", transport));

    /// <summary>A server grain stored <paramref name="stored"/> samples and skipped <paramref name="duplicates"/>.</summary>
    public static void SamplesStored(int stored, int duplicates)
    {
        if (stored > 0)
        {
            SamplesStoredCounter.Add(stored);
        }

        if (duplicates > 0)
        {
            SamplesDuplicateCounter.Add(duplicates);
        }
    }

    /// <summary>A message of <paramref name="queue"/> went to the dead-letter exchange.</summary>
    public static void DeadLettered(string queue, string reason) =>
        DeadLetters.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Reports a partition queue's gauges while this silo consumes it; dispose when it stops.</summary>
    public static IDisposable TrackQueue(string queue, Func<long?> backlog, Func<long> buffered)
    {
        var gauges = new QueueGauges(queue, backlog, buffered);
        Queues[queue] = gauges;
        return gauges;
    }

    /// <summary>Publishes the latest fleet summary for the agents gauge.</summary>
    public static void PublishAgentCounts(FleetCounts counts) => Volatile.Write(ref _agents, counts);

    private static IEnumerable<Measurement<long>> ObserveAgents()
    {
        var counts = Volatile.Read(ref _agents);
        if (counts is null)
        {
            yield break; // no summary yet: report nothing rather than a fleet of zeros
        }

        // Every state × kind, zeros included, so a series does not vanish when its last server leaves.
        foreach (var state in Enum.GetValues<ServerState>())
        {
            foreach (var kind in Enum.GetValues<ServerKind>())
            {
                yield return new Measurement<long>(
                    counts.Of(state, kind),
                    new KeyValuePair<string, object?>("state", Lower(state)),
                    new KeyValuePair<string, object?>("kind", Lower(kind)));
            }
        }
    }

    private static IEnumerable<Measurement<long>> ObserveQueues(Func<QueueGauges, long?> read)
    {
        foreach (var queue in Queues.Values)
        {
            if (read(queue) is { } value)
            {
                yield return new Measurement<long>(value, new KeyValuePair<string, object?>("queue", queue.Name));
            }
        }
    }

    private static string Lower<T>(T value)
        where T : struct, Enum => ManagedServers.Contracts.ContractsJson.WireName(value);

    private sealed class QueueGauges(string name, Func<long?> backlog, Func<long> buffered) : IDisposable
    {
        public string Name => name;

        public long? Backlog() => backlog();

        public long? Buffered() => buffered();

        public void Dispose() => Queues.TryRemove(new KeyValuePair<string, QueueGauges>(name, this));
    }
}
