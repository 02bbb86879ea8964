using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using ManagedServers.Agent.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// An item in a spool; <see cref="Id"/> is its file name. Pass it to <see cref="TelemetrySpool{T}.Remove"/> once the
/// control plane accepted it.
/// </summary>
internal sealed record Spooled<T>(string Id, T Item);

/// <summary>
/// How one kind of telemetry item is kept in a spool: its directory name under the state directory, its JSON contract,
/// its time (which orders the spool), whether a parsed item is whole, and the default bounds.
/// </summary>
internal sealed record SpoolFormat<T>(string DirectoryName, JsonTypeInfo<T> Json, Func<T, DateTimeOffset> TimeOf, Func<T, bool> IsWhole, int MaxItems, long MaxBytes);

/// <summary>
/// Telemetry items of one kind (system samples, DNS intervals, …) waiting to be sent, kept in a directory of the state
/// directory so they survive a control plane or broker outage and an agent restart. Items come back in time order; the
/// sender removes them only after the control plane accepted them, so a crash in between re-sends a few (harmless: the
/// control plane stores each (server, item time or batch id) once) but never loses one.
/// </summary>
/// <remarks>
/// <para>
/// One file per item, named <c>{unix-ms:D16}-{seq:D10}.json</c> so that name order is time order (the
/// sequence number orders items of the same millisecond). One file per item rather than segment files:
/// every write goes through <see cref="AtomicFile"/>, so a crash leaves a whole item or none and there is no
/// partial-record recovery; removing a sent item is one unlink; nothing is ever rewritten. The cost is one
/// small fsynced write per item (a system sample every few seconds, a DNS interval a minute) and a file-system block
/// per file (≈ 200 MB at the default 50,000 samples of ~2 KB on a 4 KiB-block file system); directories with 50,000
/// entries are fine on ext4/xfs.
/// </para>
/// <para>
/// The directory is listed once, at construction, into a sorted in-memory index (names and sizes only; the
/// items are read from disk when peeked). When more than <see cref="MaxItems"/> items or <see cref="MaxBytes"/>
/// bytes are spooled the oldest are deleted and added to <see cref="DroppedTotal"/>, which is persisted in
/// the file <c>dropped_total</c>. A file that cannot be parsed is moved to <c>corrupt/</c> (the newest
/// <see cref="CorruptKept"/> are kept there for inspection) and counted in <see cref="CorruptTotal"/>. Files named
/// <c>{unix-ms:D16}.json</c> (the DNS interval spool of earlier releases) are renamed into the scheme when indexed.
/// </para>
/// <para>
/// Thread-safe: meant for one writer (<see cref="Append"/>) and one sender (<see cref="PeekOldest"/> then
/// <see cref="Remove"/>). Should the clock step back, a new item sorts before older ones; <see cref="Remove"/>
/// removes exactly the items given, so such an item is still sent by a later peek.
/// </para>
/// </remarks>
internal sealed class TelemetrySpool<T>
    where T : class
{
    public const string CorruptDirectoryName = "corrupt";
    public const string DroppedTotalFileName = "dropped_total";
    public const int CorruptKept = 10;

    private const string Extension = ".json";
    private const int MillisecondsDigits = 16;
    private const int SequenceDigits = 10;

    private readonly Lock _lock = new();
    private readonly SortedSet<Entry> _index = new();
    private readonly ILogger _logger;
    private readonly string _droppedFile;
    private readonly SpoolFormat<T> _format;
    private readonly Channel<bool> _appended = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _bytes;
    private long _nextSequence;
    private long _droppedTotal;
    private long _corruptTotal;
    private long _droppedSinceStart;

    /// <summary>
    /// Opens (creating with mode 0700 if needed) the spool in <paramref name="directory"/> and indexes its files; the
    /// bounds default to the format's.
    /// </summary>
    public TelemetrySpool(SpoolFormat<T> format, string directory, int? maxItems = null, long? maxBytes = null, ILogger? logger = null)
    {
        _format = format;
        MaxItems = maxItems ?? format.MaxItems;
        MaxBytes = maxBytes ?? format.MaxBytes;
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxItems, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBytes, 1);
        Directory = Path.GetFullPath(directory);
        _logger = logger ?? NullLogger.Instance;
        _droppedFile = Path.Combine(Directory, DroppedTotalFileName);

        StateDirectory.CreatePrivate(Directory);
        _droppedTotal = ReadDroppedTotal();
        Load();
        lock (_lock)
        {
            EnforceBounds(incoming: 0);
        }
    }

    public string Directory { get; }

    public int MaxItems { get; }

    public long MaxBytes { get; }

    /// <summary>Items in the spool.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    /// <summary>Bytes of the spooled files (their lengths, not the disk blocks they use).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Items ever dropped, oldest first, because the spool was full; survives restarts.</summary>
    public long DroppedTotal
    {
        get
        {
            lock (_lock)
            {
                return _droppedTotal;
            }
        }
    }

    /// <summary>Unreadable files set aside since this instance was created.</summary>
    public long CorruptTotal
    {
        get
        {
            lock (_lock)
            {
                return _corruptTotal;
            }
        }
    }

    /// <summary>
    /// Stores an item (crash-safe: fsynced, then renamed into place), dropping the oldest if the spool is full, and
    /// wakes <see cref="WaitForItemsAsync"/>. Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>
    /// if the file cannot be written (the item is then not spooled), and <see cref="ArgumentOutOfRangeException"/> for a
    /// time before 1970.
    /// </summary>
    public Spooled<T> Append(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var milliseconds = _format.TimeOf(item).ToUnixTimeMilliseconds();
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds, "item time");
        var bytes = JsonSerializer.SerializeToUtf8Bytes(item, _format.Json);

        Spooled<T> spooled;
        lock (_lock)
        {
            var entry = new Entry(new Key(milliseconds, _nextSequence), bytes.LongLength);
            AtomicFile.WriteAllBytes(PathOf(entry.Key), bytes, AtomicFile.OwnerOnly);
            _nextSequence++;
            EnforceBounds(incoming: entry.Bytes);
            _index.Add(entry);
            _bytes += entry.Bytes;
            spooled = new Spooled<T>(entry.Key.FileName, item);
        }

        _appended.Writer.TryWrite(true);
        return spooled;
    }

    /// <summary>
    /// Waits until something was appended since the last wait ended (at once if it was): the send loop's wake-up, so it
    /// needs no polling. One waiter at a time.
    /// </summary>
    public async Task WaitForItemsAsync(CancellationToken cancellationToken) => await _appended.Reader.ReadAsync(cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> of the oldest items, oldest first, read from disk. Files that turn out
    /// unreadable are set aside and skipped. The items stay in the spool until <see cref="Remove"/>.
    /// </summary>
    public IReadOnlyList<Spooled<T>> PeekOldest(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var result = new List<Spooled<T>>(Math.Min(max, 1024));
        Key? after = null;
        while (result.Count < max)
        {
            var candidates = NextEntries(after, max - result.Count);
            if (candidates.Count == 0)
            {
                break;
            }

            foreach (var entry in candidates)
            {
                if (TryRead(entry) is { } item)
                {
                    result.Add(new Spooled<T>(entry.Key.FileName, item));
                }
            }

            after = candidates[^1].Key;
        }

        return result;
    }

    /// <summary>
    /// Removes the given items (after the control plane accepted them); items no longer in the spool
    /// (dropped meanwhile) are ignored. Returns how many were removed. A file that cannot be deleted is only
    /// forgotten: after a restart it is sent again, which the control plane ignores.
    /// </summary>
    public int Remove(IEnumerable<Spooled<T>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var removed = new List<Key>();
        lock (_lock)
        {
            foreach (var item in items)
            {
                if (Key.TryParse(item.Id, out var key) && _index.TryGetValue(new Entry(key, 0), out var entry) && _index.Remove(entry))
                {
                    _bytes -= entry.Bytes;
                    removed.Add(entry.Key);
                }
            }
        }

        foreach (var key in removed)
        {
            TryDelete(PathOf(key));
        }

        return removed.Count;
    }

    /// <summary>
    /// Removes every spooled item whose time (Unix ms) is at or before <paramref name="throughMilliseconds"/>:
    /// pull mode's acknowledgement (the control plane stored everything up to that time). Returns how many were removed.
    /// </summary>
    public int RemoveThrough(long throughMilliseconds)
    {
        var removed = new List<Key>();
        lock (_lock)
        {
            while (_index.Count > 0 && _index.Min.Key.Milliseconds <= throughMilliseconds)
            {
                var oldest = _index.Min;
                _index.Remove(oldest);
                _bytes -= oldest.Bytes;
                removed.Add(oldest.Key);
            }
        }

        foreach (var key in removed)
        {
            TryDelete(PathOf(key));
        }

        return removed.Count;
    }

    private List<Entry> NextEntries(Key? after, int max)
    {
        lock (_lock)
        {
            var list = new List<Entry>(Math.Min(max, _index.Count));
            if (_index.Count == 0)
            {
                return list;
            }

            IEnumerable<Entry> view;
            if (after is not { } from)
            {
                view = _index;
            }
            else if (from.CompareTo(_index.Max.Key) < 0)
            {
                view = _index.GetViewBetween(new Entry(from, 0), _index.Max);
            }
            else
            {
                return list;
            }

            foreach (var entry in view)
            {
                if (after is { } skip && entry.Key.CompareTo(skip) <= 0)
                {
                    continue;
                }

                list.Add(entry);
                if (list.Count == max)
                {
                    break;
                }
            }

            return list;
        }
    }

    private T? TryRead(Entry entry)
    {
        var path = PathOf(entry.Key);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Dropped or removed since it was picked from the index; if the file vanished from under us, forget it.
            lock (_lock)
            {
                if (_index.Remove(entry))
                {
                    _bytes -= entry.Bytes;
                }
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            SetAside(entry, e.Message);
            return null;
        }

        try
        {
            var item = JsonSerializer.Deserialize(bytes, _format.Json);
            if (item is not null && _format.IsWhole(item))
            {
                return item;
            }

            SetAside(entry, "no whole item in the file");
        }
        catch (JsonException e)
        {
            SetAside(entry, e.Message);
        }

        return null;
    }

    /// <summary>Moves an unreadable file to <c>corrupt/</c> (or deletes it), counts it and forgets it.</summary>
    private void SetAside(Entry entry, string error)
    {
        lock (_lock)
        {
            if (!_index.Remove(entry))
            {
                return;
            }

            _bytes -= entry.Bytes;
            _corruptTotal++;
            SetAsideFile(entry.Key.FileName, error);
        }
    }

    private void SetAsideFile(string fileName, string error)
    {
        var path = Path.Combine(Directory, fileName);
        _logger.SpoolFileUnreadable(path, error);
        try
        {
            var corrupt = Path.Combine(Directory, CorruptDirectoryName);
            StateDirectory.CreatePrivate(corrupt);
            File.Move(path, Path.Combine(corrupt, fileName), overwrite: true);
            var kept = new DirectoryInfo(corrupt).GetFiles().OrderByDescending(f => f.Name, StringComparer.Ordinal).Skip(CorruptKept);
            foreach (var old in kept)
            {
                TryDelete(old.FullName);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(path);
        }
    }

    /// <summary>Drops the oldest items until one of <paramref name="incoming"/> bytes fits. Caller holds the lock.</summary>
    private void EnforceBounds(long incoming)
    {
        var slots = incoming > 0 ? 1 : 0;
        var dropped = 0;
        while (_index.Count > 0 && (_index.Count + slots > MaxItems || _bytes + incoming > MaxBytes))
        {
            var oldest = _index.Min;
            _index.Remove(oldest);
            _bytes -= oldest.Bytes;
            TryDelete(PathOf(oldest.Key));
            dropped++;
        }

        if (dropped == 0)
        {
            return;
        }

        _droppedTotal += dropped;
        var before = _droppedSinceStart;
        _droppedSinceStart += dropped;
        if (before == 0 || before / 1000 != _droppedSinceStart / 1000)
        {
            _logger.SpoolFull(Directory, MaxItems, MaxBytes, _droppedTotal);
        }

        try
        {
            AtomicFile.WriteAllText(_droppedFile, _droppedTotal.ToString(CultureInfo.InvariantCulture) + "\n", AtomicFile.OwnerOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.SpoolCounterNotSaved(_droppedFile, e.Message);
        }
    }

    private long ReadDroppedTotal()
    {
        try
        {
            if (!File.Exists(_droppedFile))
            {
                return 0;
            }

            var text = File.ReadAllText(_droppedFile).Trim();
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            _logger.SpoolCounterUnreadable(_droppedFile, "not a number");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.SpoolCounterUnreadable(_droppedFile, e.Message);
        }

        return 0;
    }

    /// <summary>
    /// Indexes the item files; removes temporary files of interrupted writes; renames files of the earlier DNS spool's
    /// scheme; sets aside stray names.
    /// </summary>
    private void Load()
    {
        var maxSequence = -1L;
        var legacy = new List<(FileInfo File, long Milliseconds)>();
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            if (file.Name.StartsWith(AtomicFile.TempPrefix, StringComparison.Ordinal))
            {
                TryDelete(file.FullName);
                continue;
            }

            if (file.Name == DroppedTotalFileName)
            {
                continue;
            }

            if (!Key.TryParse(file.Name, out var key))
            {
                if (Key.TryParseLegacy(file.Name, out var milliseconds))
                {
                    legacy.Add((file, milliseconds));
                    continue;
                }

                _corruptTotal++;
                SetAsideFile(file.Name, "not a spool file name");
                continue;
            }

            _index.Add(new Entry(key, file.Length));
            _bytes += file.Length;
            maxSequence = Math.Max(maxSequence, key.Sequence);
        }

        _nextSequence = maxSequence + 1;
        foreach (var (file, milliseconds) in legacy)
        {
            var key = new Key(milliseconds, _nextSequence++);
            try
            {
                File.Move(file.FullName, PathOf(key));
                _index.Add(new Entry(key, file.Length));
                _bytes += file.Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _corruptTotal++;
                SetAsideFile(file.Name, e.Message);
            }
        }
    }

    private string PathOf(Key key) => Path.Combine(Directory, key.FileName);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Position of an item: its time (Unix ms), then the spool's sequence number.</summary>
    private readonly record struct Key(long Milliseconds, long Sequence) : IComparable<Key>
    {
        public string FileName =>
            Milliseconds.ToString("D" + MillisecondsDigits, CultureInfo.InvariantCulture) + "-"
            + Sequence.ToString("D" + SequenceDigits, CultureInfo.InvariantCulture) + Extension;

        public int CompareTo(Key other)
        {
            var byTime = Milliseconds.CompareTo(other.Milliseconds);
            return byTime != 0 ? byTime : Sequence.CompareTo(other.Sequence);
        }

        public static bool TryParse(string fileName, out Key key)
        {
            key = default;
            var name = fileName.AsSpan();
            if (name.Length != MillisecondsDigits + 1 + SequenceDigits + Extension.Length
                || !name.EndsWith(Extension, StringComparison.Ordinal)
                || name[MillisecondsDigits] != '-'
                || !long.TryParse(name[..MillisecondsDigits], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
                || !long.TryParse(name.Slice(MillisecondsDigits + 1, SequenceDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return false;
            }

            key = new Key(milliseconds, sequence);
            return true;
        }

        /// <summary>The earlier DNS spool's names: <c>{unix-ms:D16}.json</c>.</summary>
        public static bool TryParseLegacy(string fileName, out long milliseconds)
        {
            milliseconds = 0;
            var name = fileName.AsSpan();
            return name.Length == MillisecondsDigits + Extension.Length
                && name.EndsWith(Extension, StringComparison.Ordinal)
                && long.TryParse(name[..MillisecondsDigits], NumberStyles.None, CultureInfo.InvariantCulture, out milliseconds);
        }
    }

    /// <summary>An index entry; ordered by <see cref="Key"/> only.</summary>
    private readonly record struct Entry(Key Key, long Bytes) : IComparable<Entry>
    {
        public int CompareTo(Entry other) => Key.CompareTo(other.Key);
    }
}
