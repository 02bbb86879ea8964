using System.Globalization;
using System.Text.Json;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// DNS monitoring intervals waiting to be sent, one JSON file per interval in <c>spool-dns/</c> of the state
/// directory (written atomically; name <c>{interval start unix-ms:D16}.json</c>, so name order is time order). Unlike
/// <see cref="SampleSpool"/> (one small sample every few seconds) there is one file a minute, so this keeps no index
/// beyond a sorted list of names. Bounded: past <see cref="MaxBatches"/> files the oldest are deleted and counted in
/// <see cref="DroppedTotal"/> (persisted in <c>dropped_total</c>). A file that does not parse is deleted and counted too.
/// </summary>
internal sealed class DnsBatchSpool
{
    public const string DirectoryName = "spool-dns";

    /// <summary>A week of one-minute intervals.</summary>
    public const int DefaultMaxBatches = 7 * 24 * 60;

    private readonly Lock _lock = new();
    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);
    private readonly string _droppedFile;
    private long _droppedTotal;

    public DnsBatchSpool(string directory, int maxBatches = DefaultMaxBatches)
    {
        Directory = Path.GetFullPath(directory);
        MaxBatches = maxBatches;
        StateDirectory.CreatePrivate(Directory);
        _droppedFile = Path.Combine(Directory, "dropped_total");
        _droppedTotal = File.Exists(_droppedFile) && long.TryParse(File.ReadAllText(_droppedFile).Trim(), CultureInfo.InvariantCulture, out var d) ? d : 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
        {
            _names.Add(Path.GetFileName(file));
        }
    }

    public string Directory { get; }

    public int MaxBatches { get; }

    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _names.Count;
            }
        }
    }

    public void Append(DnsMetricsBatch batch)
    {
        var name = batch.IntervalStart.ToUnixTimeMilliseconds().ToString("D16", CultureInfo.InvariantCulture) + ".json";
        AtomicFile.WriteAllBytes(Path.Combine(Directory, name), JsonSerializer.SerializeToUtf8Bytes(batch, ContractsJson.Default.DnsMetricsBatch), AtomicFile.OwnerOnly);
        lock (_lock)
        {
            _names.Add(name);
            var dropped = 0;
            while (_names.Count > MaxBatches)
            {
                var oldest = _names.Min!;
                _names.Remove(oldest);
                File.Delete(Path.Combine(Directory, oldest));
                dropped++;
            }

            if (dropped > 0)
            {
                CountDropped(dropped);
            }
        }
    }

    /// <summary>Counts dropped intervals and keeps the count on disk (one write, however many were dropped).</summary>
    private void CountDropped(int count)
    {
        lock (_lock)
        {
            Interlocked.Add(ref _droppedTotal, count);
            AtomicFile.WriteAllText(_droppedFile, DroppedTotal.ToString(CultureInfo.InvariantCulture), AtomicFile.OwnerOnly);
        }
    }

    /// <summary>The oldest spooled interval with its file name, or null when the spool is empty.</summary>
    public (string Id, DnsMetricsBatch Batch)? PeekOldest()
    {
        while (true)
        {
            string name;
            lock (_lock)
            {
                if (_names.Count == 0)
                {
                    return null;
                }

                name = _names.Min!;
            }

            try
            {
                var batch = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(Directory, name)), ContractsJson.Default.DnsMetricsBatch);
                if (batch is not null)
                {
                    return (name, batch);
                }
            }
            catch (Exception e) when (e is JsonException or FileNotFoundException)
            {
            }

            Remove(name);
            CountDropped(1); // unreadable: dropped, and counted across restarts like the others
        }
    }

    public void Remove(string id)
    {
        lock (_lock)
        {
            _names.Remove(id);
        }

        File.Delete(Path.Combine(Directory, id));
    }
}
