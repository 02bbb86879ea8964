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
}

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

/// <summary>A zone file as stored: its serial, the SHA-256 (hex) and size of the text, and the gzip bytes.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneFileBlob")]
public sealed record ZoneFileBlob(
    [property: Id(0)] long Serial,
    [property: Id(1)] string Sha256,
    [property: Id(2)] long Size,
    [property: Id(3)] byte[] Gzip);
