namespace ManagedServers.Agent.Collectors;

/// <summary>
/// One group of system metrics (names in <see cref="Contracts.Agent.SystemMetricNames"/>). A collector
/// adds its values to <c>values</c> and throws when it cannot read its source; <see cref="SystemCollectors"/>
/// runs them one at a time, so an implementation may keep state between calls without locking.
/// </summary>
internal interface ISystemCollector
{
    /// <summary>Short stable name for logs and error counts, e.g. <c>cpu</c>.</summary>
    string Name { get; }

    void Collect(IDictionary<string, double> values);
}
