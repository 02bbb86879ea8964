using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// One ingestion message on its way to a grain. The delivery tag and channel generation stay in the
/// receiving silo (they are not serialized): only the receiver that got the message can ack it, and
/// only on the channel that delivered it.
/// </summary>
[GenerateSerializer, Alias("ms.RabbitMqBatchContainer")]
public sealed class RabbitMqBatchContainer : IBatchContainer
{
    public RabbitMqBatchContainer(StreamId streamId, object[] events, EventSequenceTokenV2 sequenceToken)
    {
        StreamId = streamId;
        Events = events;
        Token = sequenceToken;
    }

    [Id(0)]
    public StreamId StreamId { get; }

    [Id(1)]
    public object[] Events { get; }

    [Id(2)]
    public EventSequenceTokenV2 Token { get; }

    public StreamSequenceToken SequenceToken => Token;

    /// <summary>The AMQP delivery tag on <see cref="Generation"/>'s channel.</summary>
    [NonSerialized]
    internal ulong DeliveryTag;

    /// <summary>Which channel of the receiver delivered the message (changes on every reconnect).</summary>
    [NonSerialized]
    internal long Generation;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Events.OfType<T>().Select((e, i) => Tuple.Create<T, StreamSequenceToken>(e, Token.CreateSequenceTokenForEvent(i)));

    public bool ImportRequestContext() => false;

    public override string ToString() => $"[RabbitMqBatchContainer {StreamId} #{Token.SequenceNumber}]";
}
