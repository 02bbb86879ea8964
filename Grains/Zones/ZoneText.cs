using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace ManagedServers.Grains.Zones;

/// <summary>A zone's canonical text as stored: gzip bytes, and the SHA-256 (hex) and size of the text.</summary>
public sealed record PackedZone(byte[] Gzip, string Sha256, long Size);

/// <summary>
/// Writes a zone's canonical RFC 1035 text: <c>$ORIGIN</c>, <c>$TTL</c> (the SOA's), the SOA, then the records in
/// canonical order (owner, type code, data), owners relative to the origin ('@' for the apex, blank when repeated),
/// one record per line: <c>owner TTL IN TYPE data</c>. Parsing that text gives back the same records.
/// </summary>
public static class ZoneText
{
    private const int ChunkSize = 1 << 16;

    /// <summary>Renders and packs in one streaming pass: the text goes through SHA-256 and gzip in 64 KiB chunks, never whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PackedZone Pack(string apex, IReadOnlyList<ZoneRecord> records)
    {
        using var gzipped = new MemoryStream();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            var chunk = new byte[ChunkSize];
            var used = 0;
            void Flush()
            {
                hash.AppendData(chunk, 0, used);
                gzip.Write(chunk, 0, used);
                size += used;
                used = 0;
            }

            foreach (var line in Lines(apex, records))
            {
                foreach (var part in line)
                {
                    var text = part.AsSpan();
                    while (text.Length > 0)
                    {
                        if (used == chunk.Length)
                        {
                            Flush();
                        }

                        var take = Math.Min(text.Length, chunk.Length - used);
                        used += Encoding.UTF8.GetBytes(text[..take], chunk.AsSpan(used));
                        text = text[take..];
                    }
                }
            }

            Flush();
        }

        return new PackedZone(gzipped.ToArray(), Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    /// <summary>The canonical text as a string.</summary>
    public static string Render(string apex, IReadOnlyList<ZoneRecord> records)
    {
        var sb = new StringBuilder(records.Count * 40);
        foreach (var line in Lines(apex, records))
        {
            foreach (var part in line)
            {
                sb.Append(part);
            }
        }

        return sb.ToString();
    }

    /// <summary>The text of stored gzip bytes.</summary>
    public static string Unpack(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Each line as a few string parts (reused array: consume before the next line).</summary>
    private static IEnumerable<string[]> Lines(string apex, IReadOnlyList<ZoneRecord> records)
    {
        var soa = -1;
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Type == RecordTypes.Soa)
            {
                soa = i;
                break;
            }
        }

        var parts = new string[10];
        var ttlCache = new Dictionary<int, string>();
        string Ttl(int ttl)
        {
            if (!ttlCache.TryGetValue(ttl, out var text))
            {
                ttlCache[ttl] = text = ttl.ToString(CultureInfo.InvariantCulture);
            }

            return text;
        }

        yield return ["$ORIGIN ", apex, "\n", "$TTL ", Ttl(soa >= 0 ? records[soa].Ttl : ZoneFileParser.DefaultTtl), "\n"];
        var suffix = "." + apex;
        string? previous = null;
        for (var k = -1; k < records.Count; k++)
        {
            var i = k == -1 ? soa : k;
            if (i < 0 || (k >= 0 && i == soa))
            {
                continue;
            }

            var r = records[i];
            string owner;
            if (ReferenceEquals(r.Owner, previous) || r.Owner == previous)
            {
                owner = string.Empty;
            }
            else
            {
                owner = r.Owner == apex ? "@" : r.Owner.EndsWith(suffix, StringComparison.Ordinal) ? r.Owner[..^suffix.Length] : r.Owner;
                previous = r.Owner;
            }

            parts[0] = owner;
            parts[1] = "\t";
            parts[2] = Ttl(r.Ttl);
            parts[3] = "\tIN\t";
            parts[4] = RecordTypes.Name(r.Type);
            parts[5] = "\t";
            parts[6] = r.Data;
            parts[7] = "\n";
            parts[8] = string.Empty;
            parts[9] = string.Empty;
            yield return parts;
        }
    }
}
