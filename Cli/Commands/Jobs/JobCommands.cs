using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Jobs;

internal sealed class ListJobsSettings : OutputSettings
{
    [CommandOption("-s|--server <ID|NAME>")]
    [Description("One server's jobs (newest first); without it: the fleet's active jobs")]
    public string? Server { get; init; }

    [CommandOption("--state <STATE>")]
    [Description("queued, running, succeeded or failed")]
    public string? State { get; init; }

    [CommandOption("--by <USER>")]
    [Description("Only jobs this user asked for ('system': jobs nobody asked for through the API)")]
    public string? By { get; init; }
}

/// <summary>msctl jobs list.</summary>
internal sealed class ListJobsCommand(CliHost host) : ApiCommand<ListJobsSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ListJobsSettings settings, CancellationToken cancellationToken)
    {
        var server = settings.Server is null ? null : (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListJobsAsync(server?.Id, settings.State, null, 500, cancellationToken, settings.By);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Items.Count == 0)
            {
                Host.Console.MarkupLine(server is null
                    ? "No jobs are running. A server's history: [bold]msctl jobs list --server NAME[/]"
                    : $"No jobs on [bold]{Markup.Escape(server.Name)}[/] yet.");
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create(
                Tables.Column("Job", noWrap: true),
                Tables.Column("Kind", noWrap: true),
                Tables.Column("Service"),
                Tables.Column("State"),
                Tables.Column("Progress"),
                Tables.Column("Created"),
                Tables.Column("By"),
                Tables.Column("Error"));
            foreach (var job in result.Value.Items)
            {
                table.AddRow(
                    new Text(job.JobId),
                    new Text(job.Kind.Replace('_', ' ')),
                    OutputFormat.Cell(job.Service),
                    JobState(job.State),
                    new Text($"{job.Progress} %"),
                    new Text(OutputFormat.Ago(job.CreatedAt, now)),
                    OutputFormat.Cell(job.RequestedBy),
                    new Text(OutputFormat.OrNone(job.Error), job.Error is null ? Style.Plain : new Style(Color.Red)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }

    internal static Text JobState(string state) => new(state, new Style(state switch
    {
        "succeeded" => Color.Green,
        "failed" => Color.Red,
        "running" => Color.Blue,
        _ => Color.Yellow,
    }));
}

internal sealed class ShowJobSettings : OutputSettings
{
    [CommandArgument(0, "<JOB>")]
    [Description("Job id (as printed when it started, e.g. srv-0123456789abcdef-job-3)")]
    public string Job { get; init; } = "";

    [CommandOption("--wait")]
    [Description("Follow the job until it ends (progress bar on a terminal)")]
    public bool Wait { get; init; }
}

/// <summary>msctl jobs show JOB [--wait].</summary>
internal sealed class ShowJobCommand(CliHost host) : ApiCommand<ShowJobSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ShowJobSettings settings, CancellationToken cancellationToken)
    {
        var job = await api.GetJobAsync(settings.Job, null, null, cancellationToken);
        if (settings.Wait)
        {
            await JobFollower.FollowAsync(Host, api, job, new FollowSettings { Format = settings.Format }, $"job {job.Value.JobId}", cancellationToken);
            return ExitCodes.Ok;
        }

        OutputFormat.Write(Host, settings.Output, job.Json, () => Render(job.Value));
        return job.Value.State == "failed" ? ExitCodes.Error : ExitCodes.Ok;
    }

    private void Render(JobView job)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Text("Job"), new Text(job.JobId));
        grid.AddRow(new Text("Server"), new Text(job.ServerId));
        grid.AddRow(new Text("Kind"), new Text(job.Kind.Replace('_', ' ') + (job.Service is null ? string.Empty : " " + job.Service)));
        grid.AddRow(new Text("State"), ListJobsCommand.JobState(job.State));
        grid.AddRow(new Text("Progress"), new Text($"{job.Progress} %"));
        grid.AddRow(new Text("Requested by"), new Text(job.RequestedBy));
        if (job.Error is not null)
        {
            grid.AddRow(new Text("Error"), new Text(job.Error, new Style(Color.Red)));
        }

        Host.Console.Write(grid);
        foreach (var step in job.Steps)
        {
            Host.Console.MarkupLineInterpolated($"  [grey]{step.At.ToLocalTime():HH:mm:ss}[/] {step.Message}");
        }
    }

    private sealed class FollowSettings : JobSettings;
}
