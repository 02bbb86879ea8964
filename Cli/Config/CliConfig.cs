using System.Text.Json.Serialization;

namespace ManagedServers.Cli.Config;

/// <summary>
/// Saved login: config.json in $XDG_CONFIG_HOME/managedservers (JSON: {"url": ..., "token": ..., "token_id": ...}).
/// <see cref="TokenId"/> is set when <c>msctl login</c> created the token itself (a user name and password): the next
/// login and <c>msctl logout</c> revoke that token instead of leaving it behind. A token given with <c>--token</c> is
/// the user's own and is never revoked by msctl.
/// </summary>
internal sealed record CliConfig(string Url, string Token, string? TokenId = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CliConfig))]
internal sealed partial class CliConfigJson : JsonSerializerContext;
