using System.Runtime.InteropServices;

namespace ManagedServers.Agent.Dns;

/// <summary>Hits of one name in an interval and the last time (Unix seconds) it was asked.</summary>
internal struct NameHits
{
    public long Hits;
    public long LastSec;
}

/// <summary>What one interval counted: hits per name, frames seen and unparsable, hits of names past the bound.</summary>
internal sealed class DnsHitSnapshot
{
    public Dictionary<string, NameHits> Names { get; } = new(StringComparer.Ordinal);

    public long FramesSeen { get; set; }

    public long FramesUnparsable { get; set; }

    /// <summary>Responses to the agent's own probes (<see cref="AgentDnsProbe"/>): seen (in <see cref="FramesSeen"/>) but not counted as hits.</summary>
    public long FramesOwn { get; set; }

    /// <summary>Hits of names not counted by name because the interval already held the most distinct names allowed.</summary>
    public Dictionary<string, long> OverflowHits { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds another snapshot (another connection's) into this one.</summary>
    public void Add(DnsHitSnapshot other)
    {
        FramesSeen += other.FramesSeen;
        FramesUnparsable += other.FramesUnparsable;
        FramesOwn += other.FramesOwn;
        foreach (var (name, hits) in other.Names)
        {
            ref var mine = ref CollectionsMarshal.GetValueRefOrAddDefault(Names, name, out _);
            mine.Hits += hits.Hits;
            mine.LastSec = Math.Max(mine.LastSec, hits.LastSec);
        }

        foreach (var (name, hits) in other.OverflowHits)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(OverflowHits, name, out _) += hits;
        }
    }
}

/// <summary>
/// Hit counts of one dnstap connection. The reader counts a whole receive buffer under one lock
/// (<see cref="Lock"/>); <see cref="Swap"/> hands the interval's counts out and starts empty ones. Names already seen
/// in the interval are found by span (the dictionary's alternate lookup), so a repeated name allocates nothing.
/// </summary>
internal sealed class DnsHitCounter(int maxNames)
{
    private DnsHitSnapshot _current = new();
    private Dictionary<string, NameHits>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private bool _lookupReady;

    public Lock Lock { get; } = new();

    /// <summary>Counts one frame (caller holds <see cref="Lock"/>).</summary>
    public void CountFrame() => _current.FramesSeen++;

    /// <summary>Counts an unparsable frame (caller holds <see cref="Lock"/>).</summary>
    public void CountUnparsable() => _current.FramesUnparsable++;

    /// <summary>Counts a response to one of the agent's own probes (caller holds <see cref="Lock"/>).</summary>
    public void CountOwn() => _current.FramesOwn++;

    /// <summary>Counts a hit of <paramref name="name"/> (caller holds <see cref="Lock"/>).</summary>
    public void CountName(ReadOnlySpan<char> name, long timeSec)
    {
        if (!_lookupReady)
        {
            _lookup = _current.Names.GetAlternateLookup<ReadOnlySpan<char>>();
            _lookupReady = true;
        }

        ref var hits = ref CollectionsMarshal.GetValueRefOrNullRef(_lookup, name);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref hits))
        {
            if (_current.Names.Count >= maxNames)
            {
                CountOverflow(name);
                return;
            }

            hits = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookup, name, out _);
        }

        hits.Hits++;
        if (timeSec > hits.LastSec)
        {
            hits.LastSec = timeSec;
        }
    }

    private void CountOverflow(ReadOnlySpan<char> name)
    {
        // Past the bound: the hit is kept per parent (the name minus its first label), so a zone's total stays right.
        var dot = name.IndexOf('.');
        var parent = dot < 0 ? "." : name[(dot + 1)..];
        var overflow = _current.OverflowHits.GetAlternateLookup<ReadOnlySpan<char>>();
        if (overflow.TryGetValue(parent, out var hits))
        {
            overflow[parent] = hits + 1; // a parent seen before: no string made for this hit
        }
        else
        {
            _current.OverflowHits[parent.ToString()] = 1;
        }
    }

    /// <summary>Hands out the counts so far and starts an empty interval.</summary>
    public DnsHitSnapshot Swap()
    {
        lock (Lock)
        {
            var done = _current;
            _current = new DnsHitSnapshot();
            _lookupReady = false;
            return done;
        }
    }
}
