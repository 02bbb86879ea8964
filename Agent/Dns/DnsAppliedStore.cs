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

    /// <summary>The applied state, or null when nothing was applied (or the file is unreadable: treated as nothing applied).</summary>
    public static DnsAppliedState? Read(ServiceLayout layout)
    {
        var path = PathOf(layout);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), DnsAppliedJson.Default.DnsAppliedState) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static void Write(ServiceLayout layout, DnsAppliedState state) =>
        AtomicFile.WriteAllBytes(PathOf(layout), JsonSerializer.SerializeToUtf8Bytes(state, DnsAppliedJson.Default.DnsAppliedState), AtomicFile.OwnerOnly);
}
