using System.Text.Json.Serialization;

namespace ManagedServers.Cli.Config;

/// <summary>Saved login: config.json in $XDG_CONFIG_HOME/managedservers (JSON: {"url": ..., "token": ...}).</summary>
internal sealed record CliConfig(string Url, string Token);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CliConfig))]
internal sealed partial class CliConfigJson : JsonSerializerContext;
