using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Engines;

/// <summary>
/// One configuration change of an installed service, as <see cref="ConfigApplier"/> runs it. The change knows its
/// engine's files and tools (Knot: knot.conf and zone files, <c>knotc</c>); the applier owns the sequence, the
/// staging directory, the atomic switch and the rollback, the same for every engine.
/// </summary>
internal interface IConfigChange
{
    /// <summary>
    /// Writes the candidate files into <paramref name="staging"/> and validates them with nothing live changed. Returns
    /// the files to switch into place, or null when the change is already live (nothing to do). A refusal throws the
    /// change's own exception; the applier removes the staging directory and nothing live has changed.
    /// </summary>
    Task<IReadOnlyList<StagedFile>?> StageAsync(string staging, CancellationToken cancellationToken);

    /// <summary>The step that says what the switch replaced ("knot.conf replaced, zone files a, b").</summary>
    string DescribeSwitch(IReadOnlyList<SwitchedFile> switched);

    /// <summary>The service runs: make the switched files take effect (reload, or restart). Null when done, else why not.</summary>
    Task<string?> ActivateAsync(CancellationToken cancellationToken);

    /// <summary>Whether the service now serves the new configuration: null when it does, else what is wrong.</summary>
    Task<string?> CheckHealthAsync(CancellationToken cancellationToken);

    /// <summary>The new configuration is live (<paramref name="running"/>), or will be when the service starts: record it as applied.</summary>
    void Commit(bool running);

    /// <summary>What the rollback returns to, for messages ("version 4").</summary>
    string PreviousName { get; }

    /// <summary>
    /// The previous files are back in place: make them take effect again and check that the service serves them as
    /// before. Null when it does, else what went wrong.
    /// </summary>
    Task<string?> RestorePreviousAsync(IReadOnlyList<SwitchedFile> switched, CancellationToken cancellationToken);
}

/// <summary>A candidate file in the staging directory and the live path it replaces.</summary>
internal sealed record StagedFile(string Staged, string Live);

/// <summary>A live file the switch replaced; <paramref name="HadPrevious"/>: the previous one is kept as <c>Live.prev</c>.</summary>
internal sealed record SwitchedFile(string Live, bool HadPrevious);

/// <summary>How an applied change ended.</summary>
internal enum ApplyOutcome
{
    /// <summary>The same configuration was live already: nothing changed.</summary>
    AlreadyLive,

    /// <summary>Switched, activated and healthy.</summary>
    Live,

    /// <summary>Switched; the service is not running, so it takes effect when it starts.</summary>
    NotRunning,

    /// <summary>Activation or the health check failed; the previous files are back (see <see cref="ApplyResult.Message"/>).</summary>
    RolledBack,
}

/// <summary>The outcome of <see cref="ConfigApplier.ApplyAsync"/>; for a rollback, the failure and how the rollback went.</summary>
internal sealed record ApplyResult(ApplyOutcome Outcome, string? Failure = null, string? Rollback = null)
{
    /// <summary>For <see cref="ApplyOutcome.RolledBack"/>: what failed and how the rollback went.</summary>
    public string Message => $"{Failure}; {Rollback}";
}

/// <summary>
/// Applies a configuration change to any engine's service: stage → validate (nothing live changed) → atomic switch
/// by renames (the previous files kept as <c>.prev</c>) → reload → health check → on failure, the previous files
/// renamed back, reloaded and checked again. Run with the service's gate held (<see cref="ServiceManager.WithServiceAsync{T}"/>),
/// so no install, service command or supervision restart comes in between.
/// </summary>
internal static class ConfigApplier
{
    /// <summary>The staging directory's name in the service directory (same file system as the live files, so renames are atomic).</summary>
    public const string StagingDirectoryName = ".staging";

    public static async Task<ApplyResult> ApplyAsync(IServiceRuntime runtime, ServiceLayout layout, IConfigChange change, StepLog steps, CancellationToken cancellationToken)
    {
        // 1. Stage and validate; nothing live changes.
        var staging = Path.Combine(layout.Directory, StagingDirectoryName);
        ResetDirectory(staging);
        IReadOnlyList<SwitchedFile> switched;
        try
        {
            var staged = await change.StageAsync(staging, cancellationToken);
            if (staged is null)
            {
                return new ApplyResult(ApplyOutcome.AlreadyLive);
            }

            // 2. Switch: previous files kept as .prev, candidates renamed into place.
            switched = Switch(staged);
        }
        finally
        {
            DeleteDirectory(staging);
        }

        steps.Add($"switched: {change.DescribeSwitch(switched)} (previous kept as .prev)");
        if (!(await runtime.InspectAsync(layout.Kind, cancellationToken)).Running)
        {
            change.Commit(running: false);
            return new ApplyResult(ApplyOutcome.NotRunning);
        }

        // 3. Reload and health-check; roll back on failure.
        string failure;
        try
        {
            failure = await change.ActivateAsync(cancellationToken) ?? string.Empty;
            if (failure.Length == 0)
            {
                var health = await change.CheckHealthAsync(cancellationToken);
                if (health is null)
                {
                    change.Commit(running: true);
                    return new ApplyResult(ApplyOutcome.Live);
                }

                failure = "health check failed: " + health;
            }
        }
        catch (ServiceRuntimeException e)
        {
            failure = e.Message;
        }

        steps.Add(failure);
        return new ApplyResult(ApplyOutcome.RolledBack, failure, await RollBackAsync(change, switched, steps));
    }

    private static async Task<string> RollBackAsync(IConfigChange change, IReadOnlyList<SwitchedFile> switched, StepLog steps)
    {
        var to = change.PreviousName;
        try
        {
            Restore(switched);
            steps.Add($"restored the files of {to}");
            var failure = await change.RestorePreviousAsync(switched, CancellationToken.None);
            return failure is null ? $"rolled back to {to}" : $"rolling back to {to} failed: {failure}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ServiceRuntimeException)
        {
            return $"rolling back to {to} failed: {e.Message}";
        }
    }

    /// <summary>Renames each live file to <c>.prev</c> (when there is one) and the staged one into its place.</summary>
    internal static IReadOnlyList<SwitchedFile> Switch(IReadOnlyList<StagedFile> staged)
    {
        var switched = new List<SwitchedFile>();
        foreach (var file in staged)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file.Live)!);
            var had = File.Exists(file.Live);
            if (had)
            {
                File.Move(file.Live, file.Live + ".prev", overwrite: true);
            }

            File.Move(file.Staged, file.Live, overwrite: true);
            switched.Add(new SwitchedFile(file.Live, had));
        }

        return switched;
    }

    /// <summary>Puts the previous files back (a file that was new is removed).</summary>
    internal static void Restore(IReadOnlyList<SwitchedFile> switched)
    {
        foreach (var file in switched)
        {
            if (file.HadPrevious)
            {
                File.Move(file.Live + ".prev", file.Live, overwrite: true);
            }
            else
            {
                File.Delete(file.Live);
            }
        }
    }

    internal static void ResetDirectory(string path)
    {
        DeleteDirectory(path);
        StateDirectory.CreatePrivate(path);
    }

    internal static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
