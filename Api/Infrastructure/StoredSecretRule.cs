namespace ManagedServers.Api.Infrastructure;

/// <summary>
/// A stored secret (the RabbitMQ password today; registry tokens and SMTP passwords later) is sent only to the target it
/// was stored for. A request that names another target — a different host, port, virtual host, user, TLS setting or
/// management URL — must carry the secret itself; otherwise it is refused naming the secret's field, and nothing is sent
/// anywhere. This holds for saving settings and for every "test these credentials" call alike.
/// </summary>
public static class StoredSecretRule
{
    public static void Check<TTarget>(FieldErrors errors, string field, bool secretGiven, bool secretStored, TTarget storedTarget, TTarget requestedTarget)
        where TTarget : IEquatable<TTarget>
    {
        if (!secretGiven && secretStored && !storedTarget.Equals(requestedTarget))
        {
            errors.Add(field, $"is required for this target: the stored {field} is used only with the stored host, port, virtual host, user, TLS and management URL");
        }
    }
}
