using System.Globalization;
using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Zones;

/// <summary>
/// Persisted zone: its summary fields and the gzip bytes of its canonical text (about 8 MB for a million records).
/// The records themselves are not stored apart: they are parsed back from the text when record CRUD needs them.
/// </summary>
[GenerateSerializer, Alias("ms.ZoneState")]
public sealed class ZoneState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public string Name { get; set; } = string.Empty;

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(4)]
    public long Serial { get; set; }

    [Id(5)]
    public int RecordCount { get; set; }

    [Id(6)]
    public string Sha256 { get; set; } = string.Empty;

    [Id(7)]
    public long Size { get; set; }

    [Id(8)]
    public byte[] Gzip { get; set; } = [];
}

/// <summary>
/// One DNS zone (key: <see cref="ZoneNames"/>-normalised name). Every change is validated whole before anything is
/// stored, bumps the SOA serial (RFC 1982), re-renders and re-packs the canonical text, writes the state and updates the
/// zone's catalog shard. Parsed records are held in memory only once record CRUD asks for them.
/// </summary>
public sealed partial class ZoneGrain(
    [PersistentState("zone", GrainNames.Storage)] IPersistentState<ZoneState> store,
    ILogger<ZoneGrain> logger,
    TimeProvider time)
    : Grain, IZoneGrain
{
    private List<ZoneRecord>? _records;

    private ZoneState Zone => store.State;

    private string Name => this.GetPrimaryKeyString();

    private string Apex => ZoneNames.Apex(Name);

    public Task<ZoneSummary?> GetSummaryAsync() => Task.FromResult(Zone.Exists ? Summary() : null);

    public Task<ZoneFileBlob?> GetFileAsync() =>
        Task.FromResult(Zone.Exists ? new ZoneFileBlob(Zone.Serial, Zone.Sha256, Zone.Size, Zone.Gzip) : null);

    public async Task<ZoneImport> CreateAsync(ZoneCreate request)
    {
        if (!ZoneNames.TryNormalize(Name, out var normalized, out var why) || normalized != Name)
        {
            throw new ZoneValidationException($"'{Name}' is not a zone name", [new ZoneError(0, "name", why.Length > 0 ? why : $"use the normalised name '{normalized}'")]);
        }

        if (Zone.Exists)
        {
            throw new ConflictException($"zone '{Name}' already exists") { Field = "name" };
        }

        var text = request.ZoneFile ?? MinimalZone(request);
        var (records, parsed) = ParseOrThrow(text);
        var now = time.GetUtcNow();
        Zone.CreatedAt = now;
        Zone.Name = Name;
        await StoreAsync(records, now);
        LogCreated(logger, Name, records.Count, Zone.Serial, parsed.Warnings.Length);
        return new ZoneImport(Summary(), parsed.Warnings, parsed.WarningsTruncated);
    }

    public async Task<ZoneImport> ReplaceAsync(string zoneFile)
    {
        EnsureExists();
        var (records, parsed) = ParseOrThrow(zoneFile);
        var soa = records.FindIndex(r => r.Type == RecordTypes.Soa && r.Owner == Apex);
        var serial = ZoneSerial.Choose((uint)Zone.Serial, ZoneSerial.Of(records[soa].Data));
        records[soa] = records[soa] with { Data = ZoneSerial.With(records[soa].Data, serial) };
        await StoreAsync(records, time.GetUtcNow());
        LogReplaced(logger, Name, records.Count, Zone.Serial, parsed.Warnings.Length);
        return new ZoneImport(Summary(), parsed.Warnings, parsed.WarningsTruncated);
    }

    public Task<string?> ExportAsync() => Task.FromResult(Zone.Exists ? ZoneText.Unpack(Zone.Gzip) : null);

    public Task<ZoneRecordPage> ListRecordsAsync(ZoneRecordQuery query)
    {
        var records = Records();
        string? owner = null;
        if (!string.IsNullOrWhiteSpace(query.Name))
        {
            owner = query.Name.Trim().ToLowerInvariant();
            owner = owner == "@" ? Apex : owner.EndsWith('.') ? owner : Apex == "." ? owner + "." : owner + "." + Apex;
        }

        ushort? type = null;
        if (!string.IsNullOrWhiteSpace(query.Type))
        {
            if (!RecordTypes.TryParse(query.Type.Trim(), out var t))
            {
                throw new ZoneValidationException($"unknown type '{query.Type}'", [new ZoneError(0, "type", $"unknown type '{query.Type}': use one of {RecordTypes.KnownList}, or TYPEnnn")]);
            }

            type = t;
        }

        var items = ImmutableArray.CreateBuilder<ZoneRecordItem>();
        var total = 0;
        foreach (var r in records)
        {
            if ((owner is null || r.Owner == owner) && (type is null || r.Type == type))
            {
                if (total >= query.Skip && items.Count < query.Take)
                {
                    items.Add(Item(r));
                }

                total++;
            }
        }

        return Task.FromResult(new ZoneRecordPage(items.ToImmutable(), total, Zone.Serial));
    }

    public Task<ZoneRecordItem?> GetRecordAsync(string id)
    {
        var records = Records();
        var index = IndexOf(records, id);
        return Task.FromResult(index < 0 ? null : Item(records[index]));
    }

    public async Task<ZoneRecordChange> AddRecordAsync(ZoneRecordInput record)
    {
        var records = Records();
        var parsed = ParseRecordOrThrow(record, records);
        if (parsed.Type == RecordTypes.Soa)
        {
            throw Invalid("type", "a zone has exactly one SOA: change it with PUT on its record id, or replace the zone file");
        }

        if (IndexOf(records, parsed) >= 0)
        {
            throw new ConflictException($"the record {Display(parsed)} already exists") { Field = "data" };
        }

        CheckCname(records, parsed, exceptIndex: -1);
        CheckDname(records, parsed, exceptIndex: -1);
        parsed = SetTtl(records, parsed, record.Ttl is not null, exceptIndex: -1);
        Insert(records, parsed);
        return await CommitRecordChangeAsync(records, parsed);
    }

    public async Task<ZoneRecordChange> UpdateRecordAsync(string id, ZoneRecordInput record)
    {
        var records = Records();
        var index = IndexOf(records, id);
        if (index < 0)
        {
            throw new NotFoundException($"record '{id}' not found in zone '{Name}'");
        }

        var old = records[index];
        var parsed = ParseRecordOrThrow(record, records);
        if ((old.Type == RecordTypes.Soa) != (parsed.Type == RecordTypes.Soa) || (parsed.Type == RecordTypes.Soa && parsed.Owner != Apex))
        {
            throw Invalid("type", "the SOA record can only be replaced by an SOA record at the apex, and no other record by an SOA");
        }

        if (parsed.Type == RecordTypes.Soa)
        {
            parsed = parsed with { Data = ZoneSerial.With(parsed.Data, ZoneSerial.Of(old.Data)) };
        }

        var existing = IndexOf(records, parsed);
        if (existing >= 0 && existing != index)
        {
            throw new ConflictException($"the record {Display(parsed)} already exists") { Field = "data" };
        }

        if (old.Type == RecordTypes.Ns && old.Owner == Apex && !(parsed.Type == RecordTypes.Ns && parsed.Owner == Apex))
        {
            CheckApexNsRemains(records, index);
        }

        CheckCname(records, parsed, exceptIndex: index);
        CheckDname(records, parsed, exceptIndex: index);
        parsed = SetTtl(records, parsed, record.Ttl is not null, exceptIndex: index);
        records.RemoveAt(index);
        Insert(records, parsed);
        return await CommitRecordChangeAsync(records, parsed);
    }

    public async Task<long> DeleteRecordAsync(string id)
    {
        var records = Records();
        var index = IndexOf(records, id);
        if (index < 0)
        {
            throw new NotFoundException($"record '{id}' not found in zone '{Name}'");
        }

        var old = records[index];
        if (old.Type == RecordTypes.Soa)
        {
            throw Invalid("id", "the SOA record cannot be deleted (delete the zone instead)");
        }

        if (old.Type == RecordTypes.Ns && old.Owner == Apex)
        {
            CheckApexNsRemains(records, index);
        }

        records.RemoveAt(index);
        var change = await CommitRecordChangeAsync(records, null);
        return change.Serial;
    }

    public async Task DeleteAsync()
    {
        EnsureExists();
        await store.ClearStateAsync();
        store.State = new ZoneState();
        _records = null;
        await Catalog.RemoveAsync(Name);
        LogDeleted(logger, Name);
        DeactivateOnIdle();
    }

    private IZoneCatalogGrain Catalog => GrainFactory.GetGrain<IZoneCatalogGrain>(ZoneCatalog.ShardOf(Name));

    private ZoneSummary Summary() =>
        new(Name, Zone.Serial, Zone.RecordCount, Zone.Sha256, Zone.Size, Zone.Gzip.LongLength, Zone.CreatedAt, Zone.UpdatedAt);

    private void EnsureExists()
    {
        if (!Zone.Exists)
        {
            throw new NotFoundException($"zone '{Name}' not found");
        }
    }

    private const int MaxRecordsInMemory = 100_000;

    private List<ZoneRecord> Records()
    {
        EnsureExists();
        if (_records is null)
        {
            var parsed = ZoneFileParser.Parse(ZoneText.Unpack(Zone.Gzip), Name);
            if (!parsed.Ok)
            {
                throw new InvalidOperationException($"zone '{Name}': the stored text does not parse: {parsed.Errors[0]}");
            }

            List<ZoneRecord> records = [.. parsed.Records];
            _records = Cacheable(records);
            return records;
        }

        return _records;
    }

    /// <summary>The records to keep between calls: big zones are not held in memory but parsed again when record CRUD asks.</summary>
    private static List<ZoneRecord>? Cacheable(List<ZoneRecord> records) => records.Count <= MaxRecordsInMemory ? records : null;

    private (List<ZoneRecord> Records, ZoneParseResult Parsed) ParseOrThrow(string text)
    {
        var parsed = ZoneFileParser.Parse(text, Name);
        if (!parsed.Ok)
        {
            LogRefused(logger, Name, parsed.Errors.Length, parsed.Errors[0].ToString());
            throw new ZoneValidationException(
                $"the zone file of '{Name}' has {parsed.Errors.Length}{(parsed.Truncated ? "+" : string.Empty)} error(s); nothing was stored",
                parsed.Errors,
                parsed.Truncated);
        }

        return ([.. parsed.Records], parsed);
    }

    private ZoneRecord ParseRecordOrThrow(ZoneRecordInput input, List<ZoneRecord> records)
    {
        var soa = records.Find(r => r.Type == RecordTypes.Soa && r.Owner == Apex);
        var (record, errors) = ZoneFileParser.ParseRecord(input, Name, soa.Ttl);
        if (record is null)
        {
            throw new ZoneValidationException("the record is not valid; nothing was changed", errors);
        }

        return record.Value;
    }

    private static ZoneValidationException Invalid(string field, string message) => new(message, [new ZoneError(0, field, message)]);

    private void CheckCname(List<ZoneRecord> records, ZoneRecord record, int exceptIndex)
    {
        for (var i = FirstOf(records, record.Owner); i < records.Count && records[i].Owner == record.Owner; i++)
        {
            if (i == exceptIndex)
            {
                continue;
            }

            var other = records[i];
            if (record.Type == RecordTypes.Cname && other.Type is not (RecordTypes.Rrsig or RecordTypes.Nsec))
            {
                throw Invalid("type", $"a CNAME cannot be beside other data: '{DisplayOwner(record.Owner)}' has a {RecordTypes.Name(other.Type)} record");
            }

            if (other.Type == RecordTypes.Cname && record.Type is not (RecordTypes.Rrsig or RecordTypes.Nsec))
            {
                throw Invalid("name", $"'{DisplayOwner(record.Owner)}' has a CNAME: no other data can be beside it");
            }
        }
    }

    /// <summary>
    /// DNAME rules, as Knot applies them when it loads a zone (RFC 6672): one DNAME per owner, none beside an NS below the
    /// apex, nothing below a DNAME (and so no DNAME above existing names).
    /// </summary>
    private void CheckDname(List<ZoneRecord> records, ZoneRecord record, int exceptIndex)
    {
        var first = FirstOf(records, record.Owner);
        for (var i = first; i < records.Count && records[i].Owner == record.Owner; i++)
        {
            if (i == exceptIndex)
            {
                continue;
            }

            var other = records[i];
            if (record.Type == RecordTypes.Dname && other.Type == RecordTypes.Dname)
            {
                throw Invalid("type", $"'{DisplayOwner(record.Owner)}' has a DNAME already ({other.Data}): an owner has at most one");
            }

            if (record.Owner != Apex && ((record.Type == RecordTypes.Dname && other.Type == RecordTypes.Ns) || (record.Type == RecordTypes.Ns && other.Type == RecordTypes.Dname)))
            {
                throw Invalid("type", $"'{DisplayOwner(record.Owner)}' cannot have both a DNAME and an NS record: a delegation cannot be a DNAME too (RFC 6672 §2.3)");
            }
        }

        if (record.Type == RecordTypes.Dname)
        {
            var last = first;
            while (last < records.Count && records[last].Owner == record.Owner)
            {
                last++;
            }

            if (last < records.Count && ZoneFileParser.IsAtOrBelow(records[last].Owner, record.Owner) && last != exceptIndex)
            {
                throw Invalid("type", $"'{DisplayOwner(record.Owner)}' has names below it ({DisplayOwner(records[last].Owner)}): nothing can be below a DNAME (RFC 6672 §2.4)");
            }
        }

        for (var up = record.Owner; up != Apex && up != ".";)
        {
            up = ZoneRules.Parent(up);
            for (var i = FirstOf(records, up); i < records.Count && records[i].Owner == up; i++)
            {
                if (records[i].Type == RecordTypes.Dname && i != exceptIndex)
                {
                    throw Invalid("name", $"'{DisplayOwner(record.Owner)}' is below the DNAME at '{DisplayOwner(up)}': nothing can be below a DNAME (RFC 6672 §2.4)");
                }
            }
        }
    }

    /// <summary>
    /// A record set has one TTL (RFC 2181 §5.2): a record given with a TTL sets it for the whole set (the other records
    /// follow, as Knot would make them); one given without takes the set's, or the SOA's for a new set.
    /// </summary>
    private ZoneRecord SetTtl(List<ZoneRecord> records, ZoneRecord record, bool explicitTtl, int exceptIndex)
    {
        if (record.Type == RecordTypes.Rrsig)
        {
            return record;
        }

        for (var i = FirstOf(records, record.Owner); i < records.Count && records[i].Owner == record.Owner; i++)
        {
            if (i == exceptIndex || records[i].Type != record.Type)
            {
                continue;
            }

            if (!explicitTtl)
            {
                return record with { Ttl = records[i].Ttl };
            }

            records[i] = records[i] with { Ttl = record.Ttl };
        }

        return record;
    }

    private void CheckApexNsRemains(List<ZoneRecord> records, int removing)
    {
        for (var i = FirstOf(records, Apex); i < records.Count && records[i].Owner == Apex; i++)
        {
            if (i != removing && records[i].Type == RecordTypes.Ns)
            {
                return;
            }
        }

        throw Invalid("id", "the zone apex needs at least one NS record: add another before removing this one");
    }

    private static int FirstOf(List<ZoneRecord> records, string owner)
    {
        var key = ZoneFileParser.CanonicalKey(owner);
        int lo = 0, hi = records.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(ZoneFileParser.CanonicalKey(records[mid].Owner), key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static void Insert(List<ZoneRecord> records, ZoneRecord record)
    {
        var key = ZoneFileParser.CanonicalKey(record.Owner);
        int lo = 0, hi = records.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            var other = records[mid];
            var c = string.CompareOrdinal(ZoneFileParser.CanonicalKey(other.Owner), key);
            if (c == 0)
            {
                c = other.Type.CompareTo(record.Type);
            }

            if (c == 0)
            {
                c = string.CompareOrdinal(other.Data, record.Data);
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        records.Insert(lo, record);
    }

    private static int IndexOf(List<ZoneRecord> records, string id)
    {
        // Ids are 16 lower-case hex digits; anything else matches no record.
        if (id.Length != 16 || id.Any(char.IsAsciiLetterUpper)
            || !ulong.TryParse(id, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hash))
        {
            return -1;
        }

        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].IdHash == hash)
            {
                return i;
            }
        }

        return -1;
    }

    private static int IndexOf(List<ZoneRecord> records, ZoneRecord record)
    {
        for (var i = FirstOf(records, record.Owner); i < records.Count && records[i].Owner == record.Owner; i++)
        {
            if (records[i].Type == record.Type && records[i].Data == record.Data)
            {
                return i;
            }
        }

        return -1;
    }

    private async Task<ZoneRecordChange> CommitRecordChangeAsync(List<ZoneRecord> records, ZoneRecord? changed)
    {
        var soa = records.FindIndex(r => r.Type == RecordTypes.Soa && r.Owner == Apex);
        var serial = ZoneSerial.Next((uint)Zone.Serial);
        records[soa] = records[soa] with { Data = ZoneSerial.With(records[soa].Data, serial) };
        if (changed is { Type: RecordTypes.Soa })
        {
            changed = records[soa];
        }

        await StoreAsync(records, time.GetUtcNow());
        LogRecordsChanged(logger, Name, records.Count, Zone.Serial);
        return new ZoneRecordChange(changed is { } c ? Item(c) : Item(records[soa]), Zone.Serial);
    }

    private async Task StoreAsync(List<ZoneRecord> records, DateTimeOffset now)
    {
        var soa = records.Find(r => r.Type == RecordTypes.Soa && r.Owner == Apex);
        var packed = ZoneText.Pack(Apex, records);
        Zone.Exists = true;
        Zone.Name = Name;
        Zone.UpdatedAt = now;
        Zone.Serial = ZoneSerial.Of(soa.Data);
        Zone.RecordCount = records.Count;
        Zone.Sha256 = packed.Sha256;
        Zone.Size = packed.Size;
        Zone.Gzip = packed.Gzip;
        await store.WriteStateAsync();
        _records = Cacheable(records);
        await Catalog.UpsertAsync(Summary());
    }

    private string MinimalZone(ZoneCreate request)
    {
        var ns = string.IsNullOrWhiteSpace(request.PrimaryNs) ? Under("ns1") : Absolute(request.PrimaryNs.Trim());
        var email = string.IsNullOrWhiteSpace(request.Email) ? Under("hostmaster") : Absolute(MailboxName(request.Email.Trim()));
        var ttl = request.DefaultTtl ?? ZoneFileParser.DefaultTtl;
        var serial = uint.Parse(time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) * 100 + 1;
        return string.Create(CultureInfo.InvariantCulture, $"$ORIGIN {Apex}\n$TTL {ttl}\n@ IN SOA {ns} {email} {serial} 7200 3600 1209600 300\n@ IN NS {ns}\n");
    }

    /// <summary>"hostmaster@example.com" → "hostmaster.example.com" (dots in the local part escaped).</summary>
    public static string MailboxName(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? email : email[..at].Replace(".", "\\.", StringComparison.Ordinal) + "." + email[(at + 1)..];
    }

    private static string Absolute(string name) => name.EndsWith('.') ? name : name + ".";

    private string Under(string label) => Apex == "." ? label + "." : $"{label}.{Apex}";

    private string DisplayOwner(string owner) =>
        owner == Apex ? "@" : Apex != "." && ZoneFileParser.IsAtOrBelow(owner, Apex) ? owner[..^(Apex.Length + 1)] : owner;

    private string Display(ZoneRecord r) => $"{DisplayOwner(r.Owner)} {RecordTypes.Name(r.Type)} {r.Data}";

    private static ZoneRecordItem Item(ZoneRecord r) => new(r.Id, r.Owner, RecordTypes.Name(r.Type), r.Ttl, r.Data);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Zone {Zone} created: {Records} records, serial {Serial}, {Warnings} warning(s)")]
    private static partial void LogCreated(ILogger logger, string zone, int records, long serial, int warnings);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Zone {Zone} replaced: {Records} records, serial {Serial}, {Warnings} warning(s)")]
    private static partial void LogReplaced(ILogger logger, string zone, int records, long serial, int warnings);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Zone {Zone} records changed: {Records} records, serial {Serial}")]
    private static partial void LogRecordsChanged(ILogger logger, string zone, int records, long serial);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Zone {Zone} deleted")]
    private static partial void LogDeleted(ILogger logger, string zone);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Zone {Zone}: zone file refused with {Errors} error(s), first: {First}")]
    private static partial void LogRefused(ILogger logger, string zone, int errors, string first);
}
