using ManagedServers.Contracts.Agent;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streams;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// Maps a stream to the partition queue its server's messages are published to:
/// <see cref="AmqpTopology.PartitionOf"/> of the stream key (the server id), the same function the
/// control plane uses to give each agent its routing-key prefix. Spreading the queues over silos is
/// left to Orleans' hash ring (<see cref="IConsistentRingStreamQueueMapper"/>), so queues move to the
/// survivors when a silo dies.
/// </summary>
public sealed class PartitionQueueMapper : IConsistentRingStreamQueueMapper
{
    private readonly HashRingBasedStreamQueueMapper _ring;
    private readonly QueueId[] _byPartition;

    public PartitionQueueMapper(int partitions, string providerName)
    {
        _ring = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = partitions }, providerName);
        _byPartition = new QueueId[partitions];
        foreach (var queue in _ring.GetAllQueues())
        {
            _byPartition[queue.GetNumericId()] = queue;
        }
    }

    public int Partitions => _byPartition.Length;

    public IEnumerable<QueueId> GetAllQueues() => _ring.GetAllQueues();

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) => _ring.GetQueuesForRange(range);

    public QueueId GetQueueForStream(StreamId streamId) => _byPartition[PartitionOf(streamId)];

    public int PartitionOf(StreamId streamId) => AmqpTopology.PartitionOf(streamId.GetKeyAsString(), _byPartition.Length);

    /// <summary>The partition (queue index) of a queue id.</summary>
    public static int PartitionOf(QueueId queue) => (int)queue.GetNumericId();
}
