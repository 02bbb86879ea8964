using System.Text.Json.Nodes;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// The model of a DNS configuration version, kept as JSON by the config-versions part: the listen entries and every
/// zone served with the serial applied.
/// </summary>
internal sealed record DnsVersionModel(IReadOnlyList<string> Listen, IReadOnlyList<DnsVersionModel.Zone> Zones)
{
    public string ToJson() => new JsonObject
    {
        ["listen"] = new JsonArray([.. Listen.Select(l => (JsonNode)JsonValue.Create(l))]),
        ["zones"] = new JsonArray([.. Zones.Select(z => (JsonNode)new JsonObject { ["name"] = z.Name, ["serial"] = z.Serial, ["at"] = z.At })]),
    }.ToJsonString();

    public static DnsVersionModel Parse(string json)
    {
        var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidOperationException("a DNS configuration version without a model");
        return new DnsVersionModel(
            [.. (root["listen"]?.AsArray() ?? []).Select(l => l!.GetValue<string>())],
            [.. (root["zones"]?.AsArray() ?? []).Select(z => new Zone(z!["name"]!.GetValue<string>(), z["serial"]!.GetValue<long>(), z["at"]!.GetValue<DateTimeOffset>()))]);
    }

    public sealed record Zone(string Name, long Serial, DateTimeOffset At);
}

/// <summary>The DNS side of a server (see <see cref="Interfaces.Dns.IServerDnsGrain"/>), a persistent state of its own.</summary>
[GenerateSerializer, Alias("ms.ServerDnsState")]
public sealed class ServerDnsState
{
    /// <summary>Zones assigned, sorted.</summary>
    [Id(0)]
    public List<string> Zones { get; set; } = [];

    /// <summary>The DNS service's listen entries (<c>address@port</c>); empty = Knot's default (port 53, all addresses).</summary>
    [Id(1)]
    public List<string> Listen { get; set; } = [];

    /// <summary>Zones live on the server: the serial they answer with and when it was applied.</summary>
    [Id(2)]
    public Dictionary<string, AppliedZone> Applied { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Kept by an earlier release (versions are the config-versions part's now): read once, to move them there.</summary>
    [Id(3)]
    public int LastVersion { get; set; }

    /// <summary>Kept by an earlier release: read once, to move the versions.</summary>
    [Id(4)]
    public int? LiveVersion { get; set; }

    /// <summary>Versions kept by an earlier release, oldest first: moved to the config-versions part at activation.</summary>
    [Id(5)]
    public List<DnsVersionEntry> Versions { get; set; } = [];

    /// <summary>
    /// The zones the zones' server index (<see cref="Interfaces.Zones.IZoneServersGrain"/>) has been told of; differs from
    /// <see cref="Zones"/> only while a change is being announced (or was cut short: the next activation finishes it).
    /// </summary>
    [Id(6)]
    public List<string> Announced { get; set; } = [];
}

/// <summary>A zone's serial live on the server (in <see cref="DnsVersionEntry"/>, <see cref="Name"/> is set too).</summary>
[GenerateSerializer, Alias("ms.AppliedZone")]
public sealed class AppliedZone
{
    [Id(0)]
    public string Name { get; set; } = string.Empty;

    [Id(1)]
    public long Serial { get; set; }

    [Id(2)]
    public DateTimeOffset At { get; set; }
}

/// <summary>One applied configuration version, as an earlier release kept it in the DNS state.</summary>
[GenerateSerializer, Alias("ms.DnsVersionEntry")]
public sealed class DnsVersionEntry
{
    [Id(0)]
    public int Number { get; set; }

    [Id(1)]
    public DateTimeOffset AppliedAt { get; set; }

    [Id(2)]
    public string JobId { get; set; } = string.Empty;

    [Id(3)]
    public string Sha256 { get; set; } = string.Empty;

    [Id(4)]
    public string KnotConf { get; set; } = string.Empty;

    [Id(5)]
    public List<string> Listen { get; set; } = [];

    [Id(6)]
    public List<AppliedZone> Zones { get; set; } = [];
}
