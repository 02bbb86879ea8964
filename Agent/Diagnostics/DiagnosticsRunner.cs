using System.Globalization;
using System.Text.Json;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Diagnostics;

/// <summary>
/// Runs all diagnostic checks concurrently, each with its own timeout, and writes the report to
/// <c>STATE_DIR/diagnostics.json</c> (atomically) for the debug bundle.
/// </summary>
internal sealed partial class DiagnosticsRunner(
    IEnumerable<IDiagnosticCheck> checks,
    IEnumerable<IDiagnosticCheckSource> sources,
    StateDirectory state,
    TimeProvider time,
    ILogger<DiagnosticsRunner> logger)
{
    public const string ReportFileName = "diagnostics.json";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static string ReportFile(StateDirectory state) => Path.Combine(state.Path, ReportFileName);

    public async Task<DiagnosticsReport> RunAsync(CancellationToken cancellationToken)
    {
        var all = new List<IDiagnosticCheck>(checks);
        foreach (var source in sources)
        {
            try
            {
                all.AddRange(source.Checks());
            }
            catch (Exception e)
            {
                all.Add(Check.Fixed(Check.Fail(source.GetType().Name, "could not list checks: " + e.Message, null)));
            }
        }

        var at = time.GetUtcNow();
        var results = await Task.WhenAll(all.Select(check => RunOneAsync(check, cancellationToken)));
        var report = new DiagnosticsReport(at, results);
        LogSummary(
            logger,
            results.Count(r => r.Status == CheckStatuses.Pass),
            results.Count(r => r.Status == CheckStatuses.Warn),
            results.Count(r => r.Status == CheckStatuses.Fail));
        try
        {
            AtomicFile.WriteAllBytes(ReportFile(state), JsonSerializer.SerializeToUtf8Bytes(report, ContractsJson.Default.DiagnosticsReport), AtomicFile.OwnerOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogReportNotSaved(logger, e.Message);
        }

        return report;
    }

    private async Task<DiagnosticCheck> RunOneAsync(IDiagnosticCheck check, CancellationToken cancellationToken)
    {
        string name;
        TimeSpan timeout;
        try
        {
            name = check.Name;
            timeout = check.Timeout;
        }
        catch (Exception e)
        {
            return Check.Fail(check.GetType().Name, "check failed: " + e.Message, null);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);

        // Task.Run: a check that blocks synchronously cannot hold up the others.
        var task = Task.Run(() => check.RunAsync(cts.Token), CancellationToken.None);
        try
        {
            return await task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return Check.Fail(
                name,
                string.Create(CultureInfo.InvariantCulture, $"timed out after {timeout.TotalSeconds:0.#} s"),
                "the check did not finish in time: what it waits for (network, disk, service) is hanging or overloaded");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return Check.Fail(name, "check failed: " + e.Message, null);
        }
    }

    [LoggerMessage(900, LogLevel.Information, "Diagnostics: {Passed} passed, {Warned} warned, {Failed} failed")]
    private static partial void LogSummary(ILogger logger, int passed, int warned, int failed);

    [LoggerMessage(901, LogLevel.Warning, "Diagnostics report not saved: {Error}")]
    private static partial void LogReportNotSaved(ILogger logger, string error);
}
