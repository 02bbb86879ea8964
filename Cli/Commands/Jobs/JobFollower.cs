using System.ComponentModel;
using System.Text.Json;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Jobs;

/// <summary>Options of commands that start a job.</summary>
internal class JobSettings : OutputSettings
{
    [CommandOption("--no-wait")]
    [Description("Print the job id and return at once instead of waiting for the job")]
    public bool NoWait { get; init; }
}

/// <summary>
/// Follows a job to its end: a progress bar with the current step on a terminal, one line per step otherwise (logs,
/// pipes), the final job as JSON with <c>-o json</c>. A failed job is an error (one line, non-zero exit).
/// </summary>
internal static class JobFollower
{
    private const int WaitSliceSeconds = 20;

    /// <summary>Waits for <paramref name="started"/> (unless --no-wait) and returns the finished job.</summary>
    public static async Task<ApiResult<JobView>> FollowAsync(CliHost host, ApiClient api, ApiResult<JobView> started, JobSettings settings, string what, CancellationToken ct)
    {
        if (settings.NoWait)
        {
            OutputFormat.Write(host, settings.Output, started.Json, () =>
                host.Console.MarkupLineInterpolated($"Started job [bold]{started.Value.JobId}[/] ({what}). Follow it with: [bold]msctl jobs show {started.Value.JobId} --wait[/]"));
            return started;
        }

        var result = settings.Output == OutputMode.Table && host.IsInteractive
            ? await WithProgressBarAsync(host, api, started, what, ct)
            : await WithStepLinesAsync(host, api, started, settings.Output == OutputMode.Table, ct);

        if (settings.Output == OutputMode.Json)
        {
            OutputFormat.WriteJson(host, result.Json);
        }

        if (result.Value.State == "failed")
        {
            throw new CliException($"{what} failed (job {result.Value.JobId}): {result.Value.Error ?? "no reason given"}");
        }

        return result;
    }

    private static async Task<ApiResult<JobView>> WithStepLinesAsync(CliHost host, ApiClient api, ApiResult<JobView> job, bool print, CancellationToken ct)
    {
        var shown = 0;
        while (true)
        {
            shown = PrintSteps(host, job.Value, shown, print);
            if (IsFinished(job.Value))
            {
                return job;
            }

            job = await api.GetJobAsync(job.Value.JobId, WaitSliceSeconds, job.Value.Version, ct);
        }
    }

    private static async Task<ApiResult<JobView>> WithProgressBarAsync(CliHost host, ApiClient api, ApiResult<JobView> job, string what, CancellationToken ct)
    {
        await host.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(what), maxValue: 100);
                while (true)
                {
                    var view = job.Value;
                    task.Value = view.Progress;
                    var last = view.Steps.Count > 0 ? view.Steps[^1].Message : view.State;
                    task.Description = Markup.Escape($"{what}: {Shorten(last, 60)}");
                    if (IsFinished(view))
                    {
                        task.Value = 100;
                        task.StopTask();
                        return;
                    }

                    job = await api.GetJobAsync(view.JobId, WaitSliceSeconds, view.Version, ct);
                }
            });
        PrintSteps(host, job.Value, 0, print: true);
        return job;
    }

    private static int PrintSteps(CliHost host, JobView job, int shown, bool print)
    {
        for (; shown < job.Steps.Count; shown++)
        {
            if (print)
            {
                var step = job.Steps[shown];
                var colour = step.Message.StartsWith("failed", StringComparison.Ordinal) ? "red" : step.Message == "succeeded" ? "green" : "grey";
                host.Console.MarkupLineInterpolated($"[grey]{step.At.ToLocalTime():HH:mm:ss}[/] [{colour}]{step.Message}[/]");
            }
        }

        return shown;
    }

    public static bool IsFinished(JobView job) => job.State is "succeeded" or "failed";

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>The job's result as a typed value, or null.</summary>
    public static T? Result<T>(JobView job, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        job.Result is { ValueKind: JsonValueKind.Object } result ? result.Deserialize(type) : default;
}
