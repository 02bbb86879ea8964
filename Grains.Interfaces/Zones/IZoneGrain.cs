namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>
/// One DNS zone (key: the zone name, lower case, no trailing dot): its records, validated before anything is stored,
/// and its SOA serial, bumped on every change. The zone's content is kept as gzip-compressed RFC 1035 text, so a push
/// streams it to agents as stored.
/// </summary>
[Alias("ms.IZoneGrain")]
public interface IZoneGrain : IGrainWithStringKey
{
    /// <summary>The zone, or null when it does not exist.</summary>
    [ReadOnly]
    Task<ZoneSummary?> GetSummaryAsync();

    /// <summary>The zone file at its current serial (gzip-compressed RFC 1035 text), or null when the zone does not exist.</summary>
    [ReadOnly]
    Task<ZoneFileBlob?> GetFileAsync();

    /// <summary>
    /// Creates the zone from <see cref="ZoneCreate.ZoneFile"/> (RFC 1035 text), or a minimal zone (SOA and one NS) when it
    /// is null; the result carries the warnings about what was accepted as Knot accepts it. Throws
    /// <see cref="ZoneValidationException"/> (nothing stored) for a zone file Knot would refuse and
    /// <see cref="Servers.ConflictException"/> when the zone exists.
    /// </summary>
    Task<ZoneImport> CreateAsync(ZoneCreate request);

    /// <summary>
    /// Replaces the zone's content with <paramref name="zoneFile"/>. The serial becomes the file's when that is higher
    /// (RFC 1982), else the current one plus one. Throws <see cref="ZoneValidationException"/> (nothing changed).
    /// </summary>
    Task<ZoneImport> ReplaceAsync(string zoneFile);

    /// <summary>The zone file at its current serial (canonical text), or null when the zone does not exist.</summary>
    [ReadOnly]
    Task<string?> ExportAsync();

    /// <summary>A page of the zone's records in canonical order, filtered by owner and type.</summary>
    Task<ZoneRecordPage> ListRecordsAsync(ZoneRecordQuery query);

    /// <summary>One record by its id, or null.</summary>
    Task<ZoneRecordItem?> GetRecordAsync(string id);

    /// <summary>Adds one record; bumps the serial. Throws <see cref="ZoneValidationException"/> with field errors.</summary>
    Task<ZoneRecordChange> AddRecordAsync(ZoneRecordInput record);

    /// <summary>Replaces the record <paramref name="id"/> (its id changes with its content); bumps the serial.</summary>
    Task<ZoneRecordChange> UpdateRecordAsync(string id, ZoneRecordInput record);

    /// <summary>Deletes the record <paramref name="id"/>; bumps the serial and returns the new one.</summary>
    Task<long> DeleteRecordAsync(string id);

    /// <summary>Deletes the zone. Throws <see cref="Servers.NotFoundException"/> when it does not exist.</summary>
    Task DeleteAsync();
}

/// <summary>
/// How to create a zone: from a zone file, or (when <see cref="ZoneFile"/> is null) a minimal zone with the SOA
/// <c>PrimaryNs Email</c> (defaults <c>ns1.&lt;zone&gt;.</c> and <c>hostmaster.&lt;zone&gt;.</c>), one NS and <see cref="DefaultTtl"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneCreate")]
public sealed record ZoneCreate(
    [property: Id(0)] string? ZoneFile,
    [property: Id(1)] string? PrimaryNs = null,
    [property: Id(2)] string? Email = null,
    [property: Id(3)] int? DefaultTtl = null);

/// <summary>
/// One record as given by fields: <see cref="Name"/> relative to the zone ("www", "@") or absolute ("www.example.com."),
/// <see cref="Type"/> a mnemonic or TYPEnnn, <see cref="Data"/> the RDATA in zone-file form; <see cref="Ttl"/> defaults to the SOA's TTL.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneRecordInput")]
public sealed record ZoneRecordInput(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Type,
    [property: Id(2)] long? Ttl,
    [property: Id(3)] string? Data);

/// <summary>One record: a stable <see cref="Id"/> (hash of owner, type and data), the owner as an absolute name, canonical data.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneRecordItem")]
public sealed record ZoneRecordItem(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Type,
    [property: Id(3)] int Ttl,
    [property: Id(4)] string Data);

/// <summary>Record listing filters: <see cref="Name"/> an owner (relative or absolute), <see cref="Type"/> a type.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneRecordQuery")]
public sealed record ZoneRecordQuery(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Type,
    [property: Id(2)] int Skip,
    [property: Id(3)] int Take);

/// <summary>A page of records and the number matching.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneRecordPage")]
public sealed record ZoneRecordPage([property: Id(0)] ImmutableArray<ZoneRecordItem> Items, [property: Id(1)] int Total, [property: Id(2)] long Serial);

/// <summary>The result of a record change: the record as stored and the zone's new serial.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneRecordChange")]
public sealed record ZoneRecordChange([property: Id(0)] ZoneRecordItem Record, [property: Id(1)] long Serial);

/// <summary>
/// A zone as lists show it. <see cref="Serial"/>: the SOA serial now; <see cref="Sha256"/> (hex, lower case) and
/// <see cref="Size"/>: of the uncompressed zone text; <see cref="GzipSize"/>: as stored and pushed.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneSummary")]
public sealed record ZoneSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] long Serial,
    [property: Id(2)] int RecordCount,
    [property: Id(3)] string Sha256,
    [property: Id(4)] long Size,
    [property: Id(5)] long GzipSize,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt);

/// <summary>
/// A zone created or replaced from a zone file, and the warnings about it: what Knot loads but reports, or only its
/// optional checks flag (missing glue, a second SOA ignored, out-of-zone data ignored, a record set's TTLs made equal,
/// ...), each "line N: ..." like the errors; at most 100 (<see cref="WarningsTruncated"/> when there were more).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneImport")]
public sealed record ZoneImport(
    [property: Id(0)] ZoneSummary Zone,
    [property: Id(1)] ImmutableArray<ZoneError> Warnings,
    [property: Id(2)] bool WarningsTruncated = false);

/// <summary>A zone file as stored: its serial, the SHA-256 (hex) and size of the text, and the gzip bytes.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneFileBlob")]
public sealed record ZoneFileBlob(
    [property: Id(0)] long Serial,
    [property: Id(1)] string Sha256,
    [property: Id(2)] long Size,
    [property: Id(3)] byte[] Gzip);
