using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Jobs;

/// <summary>
/// Shows an operation over several servers (<c>GET /api/v1/operations/{id}</c>), following it to its end unless told not
/// to: each step as it finishes, then a table with each server's result (by name), or the operation as JSON with
/// <c>-o json</c>. A server that failed or was skipped is an error (one line naming them, non-zero exit).
/// </summary>
internal static class OperationFollower
{
    public static async Task<int> FollowAsync(CliHost host, ApiClient api, ApiResult<OperationView> operation, OutputMode output, bool wait, CancellationToken ct)
    {
        var print = output == OutputMode.Table;
        if (print)
        {
            host.Console.MarkupLineInterpolated($"Operation [bold]{operation.Value.OperationId}[/]: {operation.Value.Summary}");
        }

        var shown = new HashSet<int>();
        while (true)
        {
            var steps = operation.Value.Steps;
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                if (print && step.State is "succeeded" or "failed" or "skipped" && shown.Add(i))
                {
                    var colour = step.State == "succeeded" ? "green" : step.Mode == "required" ? "red" : "yellow";
                    host.Console.MarkupLineInterpolated($"  [{colour}]{step.State}[/] {step.Label}{(step.Error is { } e ? ": " + e : string.Empty)}");
                }
            }

            if (!wait || operation.Value.State != "running")
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), host.Time, ct);
            operation = await api.GetOperationAsync(operation.Value.OperationId, ct);
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in operation.Value.Servers.Select(s => s.ServerId))
        {
            names[id] = (await api.GetServerAsync(id, ct)).Value.Name;
        }

        OutputFormat.Write(host, output, operation.Json, () =>
        {
            if (operation.Value.State == "running")
            {
                host.Console.MarkupLineInterpolated($"Running; follow it with [bold]msctl jobs operation {operation.Value.OperationId} --wait[/].");
                return;
            }

            var table = Tables.Create("Server", "Result", "Error");
            foreach (var server in operation.Value.Servers)
            {
                var colour = server.State == "succeeded" ? "green" : "red";
                table.AddRow(new Text(names[server.ServerId]), new Markup($"[{colour}]{server.State}[/]"), new Text(server.Error ?? "-"));
            }

            Tables.Write(host, table);
        });

        var failed = operation.Value.Servers.Where(s => s.State is "failed" or "skipped").ToList();
        return failed.Count == 0
            ? ExitCodes.Ok
            : throw new CliException($"the {operation.Value.Kind.Replace('_', ' ')} failed on {failed.Count} of {operation.Value.Servers.Count} server(s): {string.Join("; ", failed.Select(f => $"{names[f.ServerId]}: {f.Error}"))}");
    }
}

internal sealed class ShowOperationSettings : OutputSettings
{
    [CommandArgument(0, "<OPERATION-ID>")]
    [Description("The operation's id (op-…), as msctl dhcp push printed it")]
    public string Id { get; init; } = string.Empty;

    [CommandOption("--wait")]
    [Description("Follow it to its end")]
    public bool Wait { get; init; }
}

/// <summary>msctl jobs operation ID [--wait]: an operation over several servers, its steps and each server's result.</summary>
internal sealed class ShowOperationCommand(CliHost host) : ApiCommand<ShowOperationSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ShowOperationSettings settings, CancellationToken cancellationToken) =>
        await OperationFollower.FollowAsync(Host, api, await api.GetOperationAsync(settings.Id, cancellationToken), settings.Output, settings.Wait, cancellationToken);
}
