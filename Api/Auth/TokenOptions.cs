namespace ManagedServers.Api.Auth;

/// <summary>
/// API tokens (<c>Tokens:*</c>). <see cref="DefaultLifetime"/>: the lifetime of a token created without
/// <c>expires_in</c>, written like it ("30d", "12h", "1w") or "never"; 30 days unless set. A bad value stops the
/// silo at start.
/// </summary>
public sealed class TokenOptions
{
    public const string Section = "Tokens";

    public string DefaultLifetime { get; set; } = "30d";

    /// <summary>The default lifetime parsed; null: never expires.</summary>
    public TimeSpan? Lifetime => TokenLifetimes.TryParse(DefaultLifetime, out var lifetime)
        ? lifetime
        : throw new InvalidOperationException($"{Section}:DefaultLifetime '{DefaultLifetime}' is not {TokenLifetimes.Hint}");

    internal static void Register(IServiceCollection services) =>
        services.AddOptions<TokenOptions>()
            .BindConfiguration(Section)
            .Validate(o => TokenLifetimes.TryParse(o.DefaultLifetime, out _), $"{Section}:DefaultLifetime must be {TokenLifetimes.Hint}")
            .ValidateOnStart();
}
