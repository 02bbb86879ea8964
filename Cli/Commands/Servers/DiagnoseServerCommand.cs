using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Jobs;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class DiagnoseSettings : JobSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";
}

/// <summary>msctl servers diagnose: runs the agent's checks and shows pass/warn/fail with hints; exit 1 when a check fails.</summary>
internal sealed class DiagnoseServerCommand(CliHost host) : ApiCommand<DiagnoseSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DiagnoseSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var started = await api.RunDiagnosticsAsync(server.Id, cancellationToken);
        var done = await JobFollower.FollowAsync(Host, api, started, settings, $"diagnostics of {server.Name}", cancellationToken);
        if (settings.NoWait)
        {
            return ExitCodes.Ok;
        }

        var report = JobFollower.Result(done.Value, ContractsJson.Default.DiagnosticsReport);
        if (report is null)
        {
            throw new CliException($"diagnostics of {server.Name}: the job succeeded but carried no report (job {done.Value.JobId})");
        }

        if (settings.Output == OutputMode.Table)
        {
            var table = Tables.Create("Check", "Result", "Finding", "Hint");
            foreach (var check in report.Checks)
            {
                table.AddRow(
                    new Text(check.Name),
                    new Text(check.Status.ToUpperInvariant(), new Style(check.Status switch
                    {
                        CheckStatuses.Pass => Color.Green,
                        CheckStatuses.Warn => Color.Yellow,
                        _ => Color.Red,
                    })),
                    new Text(check.Message),
                    OutputFormat.Cell(check.Hint));
            }

            Tables.Write(Host, table);
        }

        var failed = report.Checks.Count(c => c.Status == CheckStatuses.Fail);
        return failed > 0 ? ExitCodes.Error : ExitCodes.Ok;
    }
}

internal sealed class DebugBundleSettings : GlobalSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandOption("-f|--file <FILE>")]
    [Description("Where to write the tar.gz (default: the name the control plane gives, in the current directory)")]
    public string? File { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("How long to wait for the agent to make the bundle (default 120)")]
    public int? Timeout { get; init; }
}

/// <summary>msctl servers debug-bundle: fetches a tar.gz of bounded logs, redacted configs, versions and the last diagnostics.</summary>
internal sealed class DebugBundleCommand(CliHost host) : ApiCommand<DebugBundleSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DebugBundleSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var timeout = settings.Timeout ?? 120;
        (byte[]? Bundle, string? FileName, Contracts.Api.JobView? Pending) answer = default;
        await Host.Console.Status().StartAsync($"Asking the agent of {Markup.Escape(server.Name)} for a debug bundle…", async _ =>
        {
            answer = await api.GetDebugBundleAsync(server.Id, null, timeout, cancellationToken);
        });

        if (answer.Bundle is null)
        {
            throw new CliException($"the debug bundle of {server.Name} was not ready within {timeout} s; fetch it later with: msctl jobs show {answer.Pending?.JobId} --wait");
        }

        var file = settings.File ?? answer.FileName ?? $"debug-{server.Name}.tar.gz";
        var path = Path.GetFullPath(file, Host.WorkingDirectory);
        Config.ConfigStore.WritePrivateFile(path, answer.Bundle);
        Host.Console.MarkupLineInterpolated($"Wrote the debug bundle of [bold]{server.Name}[/] to [bold]{file}[/] ({answer.Bundle.Length:N0} bytes; secrets are redacted, but it holds logs and configs: mode 0600).");
        return ExitCodes.Ok;
    }
}
