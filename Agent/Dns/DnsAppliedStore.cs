using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>The last <c>dns.apply</c> that took effect: its version, its spec and the zone files it wrote (to tell what changed next time).</summary>
internal sealed record DnsAppliedState(int Version, DnsConfigSpec Spec, IReadOnlyList<DnsAppliedFile> Files);

/// <summary>One live zone file as applied: serial, sha256 (hex, lower case) and size of its text.</summary>
internal sealed record DnsAppliedFile(string Zone, long Serial, string Sha256, long Size);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(DnsAppliedState))]
internal sealed partial class DnsAppliedJson : JsonSerializerContext;

/// <summary>
/// <c>data/dns-applied.json</c> in the DNS service's directory, written atomically once a change took effect (or was
/// switched in while the service was stopped). Install and update render knot.conf from it, so they keep serving the
/// zones; it stays with the data directory when the service is removed.
/// </summary>
internal static class DnsAppliedStore
{
    public const string FileName = "dns-applied.json";

    public static string PathOf(ServiceLayout layout) => System.IO.Path.Combine(layout.DataDirectory, FileName);

    /// <summary>
    /// The applied state, or null when nothing was applied (or the file is unreadable: treated as nothing applied). Read
    /// on every service status and heartbeat, so the parsed state is kept until the file changes (one stat per call).
    /// </summary>
    public static DnsAppliedState? Read(ServiceLayout layout)
    {
        var path = PathOf(layout);
        var info = new FileInfo(path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : default;
        if (Cache.TryGetValue(path, out var cached) && cached.Stamp == stamp)
        {
            return cached.State;
        }

        DnsAppliedState? state;
        try
        {
            state = info.Exists ? JsonSerializer.Deserialize(File.ReadAllBytes(path), DnsAppliedJson.Default.DnsAppliedState) : null;
        }
        catch (JsonException)
        {
            state = null;
        }

        Cache[path] = (stamp, state);
        return state;
    }

    public static void Write(ServiceLayout layout, DnsAppliedState state)
    {
        var path = PathOf(layout);
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(state, DnsAppliedJson.Default.DnsAppliedState), AtomicFile.OwnerOnly);
        Cache.TryRemove(path, out _); // the next read parses what was written, whatever the file system's time resolution
    }

    private static readonly ConcurrentDictionary<string, ((DateTime Time, long Length) Stamp, DnsAppliedState? State)> Cache = new(StringComparer.Ordinal);
}
