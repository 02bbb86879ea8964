using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// One diagnostic check. <see cref="DiagnosticsRunner"/> runs every check concurrently, each bounded by its own
/// <see cref="Timeout"/>; a check that throws or hangs is reported as failed and does not affect the others.
/// </summary>
internal interface IDiagnosticCheck
{
    /// <summary>Name in the report, e.g. <c>disk /</c> or <c>service dns</c>.</summary>
    string Name { get; }

    /// <summary>How long the check may take before it is reported as "timed out".</summary>
    TimeSpan Timeout => DiagnosticsRunner.DefaultTimeout;

    /// <summary>Runs the check; should honour <paramref name="cancellationToken"/> (cancelled at <see cref="Timeout"/>).</summary>
    Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken);
}

/// <summary>Checks that depend on the moment (e.g. one per installed service), asked for at each run.</summary>
internal interface IDiagnosticCheckSource
{
    IEnumerable<IDiagnosticCheck> Checks();
}

/// <summary>Shorthands for check outcomes.</summary>
internal static class Check
{
    public static DiagnosticCheck Pass(string name, string message) => new(name, CheckStatuses.Pass, message);

    public static DiagnosticCheck Warn(string name, string message, string? hint) => new(name, CheckStatuses.Warn, message, hint);

    public static DiagnosticCheck Fail(string name, string message, string? hint) => new(name, CheckStatuses.Fail, message, hint);

    /// <summary>Milliseconds, rounded for humans.</summary>
    public static string Ms(TimeSpan elapsed) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0} ms");

    /// <summary>A check whose outcome is fixed (e.g. "no services installed").</summary>
    public static IDiagnosticCheck Fixed(DiagnosticCheck result) => new FixedCheck(result);

    private sealed class FixedCheck(DiagnosticCheck result) : IDiagnosticCheck
    {
        public string Name => result.Name;

        public Task<DiagnosticCheck> RunAsync(CancellationToken cancellationToken) => Task.FromResult(result);
    }
}
