using System.Text.Json;
using System.Text.Json.Serialization;
using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Services;

/// <summary>
/// One installed service as kept in <c>services.json</c>: what to run (<see cref="Version"/> = image tag for docker,
/// binary version for exec), where it listens, whether it should run (<see cref="Desired"/>: running|stopped), and the
/// crash restarts so far. <see cref="Listen"/> (DNS): Knot listen entries <c>address@port</c>; when set they win over
/// <see cref="ListenAddress"/>/<see cref="Port"/>.
/// </summary>
internal sealed record InstalledService(
    string Kind,
    string Runtime,
    string Version,
    string? Image,
    string? ListenAddress,
    int? Port,
    string Desired,
    int RestartCount,
    DateTimeOffset InstalledAt,
    IReadOnlyList<string>? Listen = null,
    IReadOnlyList<string>? Interfaces = null);

/// <summary>The content of <c>services.json</c>: the agent's runtime (one for all services) and its services.</summary>
internal sealed record ServicesFileContent(int Version, string? Runtime, IReadOnlyList<InstalledService> Services);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServicesFileContent))]
internal sealed partial class ServicesJson : JsonSerializerContext;

/// <summary><c>STATE_DIR/services.json</c>, written atomically.</summary>
internal sealed class ServicesFile(string path)
{
    public const int FormatVersion = 1;

    public string Path { get; } = path;

    public ServicesFileContent Read()
    {
        if (!File.Exists(Path))
        {
            return new ServicesFileContent(FormatVersion, null, []);
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(Path), ServicesJson.Default.ServicesFileContent)
                ?? throw new AgentException($"{Path} is empty");
        }
        catch (JsonException e)
        {
            throw new AgentException($"{Path} is not valid: {e.Message}", e);
        }
    }

    public void Write(ServicesFileContent content) =>
        AtomicFile.WriteAllBytes(Path, JsonSerializer.SerializeToUtf8Bytes(content, ServicesJson.Default.ServicesFileContent), AtomicFile.OwnerOnly);
}
