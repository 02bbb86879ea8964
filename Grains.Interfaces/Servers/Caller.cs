namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// Who asked: the person (user name) or agent behind a request, carried to grains in the Orleans request context (set by
/// the API for every authenticated request). Work a grain starts on its own (reminders, timers, rollouts) has no caller
/// and counts as <see cref="System"/>.
/// </summary>
public static class Caller
{
    /// <summary>The request-context key.</summary>
    public const string Key = "ms.caller";

    /// <summary>The requester of work nobody asked for through the API.</summary>
    public const string System = "system";

    /// <summary>The caller of the current request, or <see cref="System"/>.</summary>
    public static string Current => RequestContext.Get(Key) as string is { Length: > 0 } name ? name : System;

    /// <summary>Sets the caller for grain calls made from here on (in this async flow).</summary>
    public static void Set(string name) => RequestContext.Set(Key, name);
}
