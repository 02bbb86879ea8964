using System.Security.Cryptography;
using System.Text;

namespace ManagedServers.Grains.Servers.Parts.Versions;

/// <summary>
/// What a job handler records about the configuration a service applied (reached through
/// <see cref="Jobs.IJobContext.Features{T}"/>): numbered versions per service, diffable and revertible.
/// </summary>
public interface IConfigVersions
{
    /// <summary>The number the next version of <paramref name="service"/> gets (what an agent command announces).</summary>
    int NextNumber(string service);

    /// <summary>The live version of <paramref name="service"/>, or null when it applied none.</summary>
    int? Live(string service);

    /// <summary>A kept version of <paramref name="service"/>, or null (never applied, or out of the history).</summary>
    ConfigVersionEntry? Find(string service, int number);

    /// <summary>
    /// The agent reports <paramref name="content"/> (rendered from <paramref name="modelJson"/>) live for
    /// <paramref name="service"/>, serving <paramref name="items"/> things (zones, subnets): a new version when it differs
    /// from the newest kept one, else that one stays live. Idempotent (a replayed result finds the same content). Saved
    /// before it returns, so write it before the job.
    /// </summary>
    Task<(int Number, bool Changed)> RecordAppliedAsync(string service, string jobId, string content, string modelJson, int items);
}

/// <summary>
/// The configuration versions of every service of the server, one persisted state (<c>config-versions</c>) with a
/// bounded history per service (<see cref="History"/>). Versions are the agent's word: recorded when a validated change
/// is live, never when it was refused or rolled back. Serves <see cref="IServerConfigVersionsGrain"/> through the shell.
/// </summary>
public sealed class ConfigVersionsPart : ServerPart, IConfigVersions
{
    /// <summary>Versions kept per service.</summary>
    public const int History = 50;

    private readonly IPersistentState<ConfigVersionsState> _store;
    private readonly TimeProvider _time;

    public ConfigVersionsPart(IServerHost host, TimeProvider time)
        : base(host)
    {
        _store = host.State<ConfigVersionsState>("config-versions");
        _time = time;
    }

    private Dictionary<string, ServiceVersions> Services => _store.State.Services;

    public int NextNumber(string service) => (Services.GetValueOrDefault(service)?.Last ?? 0) + 1;

    public int? Live(string service) => Services.GetValueOrDefault(service)?.Live;

    public ConfigVersionEntry? Find(string service, int number) => Services.GetValueOrDefault(service)?.Versions.Find(v => v.Number == number);

    public async Task<(int Number, bool Changed)> RecordAppliedAsync(string service, string jobId, string content, string modelJson, int items)
    {
        var versions = Services.TryGetValue(service, out var existing) ? existing : Services[service] = new ServiceVersions();
        var sha = Sha256(content);
        var changed = versions.Versions.Count == 0 || versions.Versions[^1].Sha256 != sha;
        if (changed)
        {
            versions.Last++;
            versions.Versions.Add(new ConfigVersionEntry
            {
                Number = versions.Last,
                AppliedAt = _time.GetUtcNow(),
                JobId = jobId,
                Sha256 = sha,
                Content = content,
                ModelJson = modelJson,
                Items = items,
            });
            if (versions.Versions.Count > History)
            {
                versions.Versions.RemoveRange(0, versions.Versions.Count - History);
            }
        }

        if (changed || versions.Live != versions.Last)
        {
            versions.Live = versions.Last;
            await _store.WriteStateAsync();
        }

        return (versions.Last, changed);
    }

    /// <summary>
    /// Takes over versions kept elsewhere by an earlier release (the DNS state kept its own): only when this part has
    /// none of <paramref name="service"/> yet, so a repeat after a crash between the two writes changes nothing.
    /// </summary>
    public async Task ImportAsync(string service, IReadOnlyList<ConfigVersionEntry> versions, int last, int? live)
    {
        if (versions.Count == 0 || Services.ContainsKey(service))
        {
            return;
        }

        Services[service] = new ServiceVersions { Last = last, Live = live, Versions = [.. versions.TakeLast(History)] };
        await _store.WriteStateAsync();
    }

    public ImmutableArray<ConfigVersionSummary> List(string service) =>
        Services.GetValueOrDefault(service) is { } versions
            ? [.. versions.Versions.AsEnumerable().Reverse().Select(v => Summary(service, versions, v))]
            : [];

    public ConfigVersionRecord? Get(string service, int number) =>
        Services.GetValueOrDefault(service) is { } versions && versions.Versions.Find(v => v.Number == number) is { } v
            ? new ConfigVersionRecord(Summary(service, versions, v), v.Content, v.ModelJson)
            : null;

    public override Task OnDeleteAsync() => _store.ClearStateAsync();

    internal static string Sha256(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    private static ConfigVersionSummary Summary(string service, ServiceVersions versions, ConfigVersionEntry v) =>
        new(service, v.Number, v.AppliedAt, v.JobId, v.Sha256, v.Number == versions.Live, v.Items);
}

/// <summary>The versions of every service of a server, by service kind.</summary>
[GenerateSerializer, Alias("ms.ConfigVersionsState")]
public sealed class ConfigVersionsState
{
    [Id(0)]
    public Dictionary<string, ServiceVersions> Services { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One service's versions: the last number given, the live one, the kept history (oldest first).</summary>
[GenerateSerializer, Alias("ms.ServiceVersions")]
public sealed class ServiceVersions
{
    [Id(0)]
    public int Last { get; set; }

    [Id(1)]
    public int? Live { get; set; }

    [Id(2)]
    public List<ConfigVersionEntry> Versions { get; set; } = [];
}

/// <summary>One applied version: the rendered configuration and the model (JSON, the service's shape) it came from.</summary>
[GenerateSerializer, Alias("ms.ConfigVersionEntry")]
public sealed class ConfigVersionEntry
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
    public string Content { get; set; } = string.Empty;

    [Id(5)]
    public string ModelJson { get; set; } = "{}";

    /// <summary>How many things the version serves (DNS: zones).</summary>
    [Id(6)]
    public int Items { get; set; }
}
