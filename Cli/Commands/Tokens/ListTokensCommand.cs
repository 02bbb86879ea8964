using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using Spectre.Console;

namespace ManagedServers.Cli.Commands.Tokens;

/// <summary>msctl tokens list.</summary>
internal sealed class ListTokensCommand(CliHost host) : ApiCommand<OutputSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, OutputSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.ListTokensAsync(cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Length == 0)
            {
                Host.Console.MarkupLine("No tokens. Create one with: [bold]msctl tokens create --name NAME[/]");
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create("Id", "Name", "User", "Created", "Expires", "Last used");
            foreach (var t in result.Value)
            {
                table.AddRow(
                    OutputFormat.Cell(t.Id),
                    OutputFormat.Cell(t.Name),
                    OutputFormat.Cell(t.User),
                    OutputFormat.Cell(OutputFormat.Ago(t.CreatedAt, now)),
                    OutputFormat.Cell(t.ExpiresAt is null ? "never" : OutputFormat.Timestamp(t.ExpiresAt, now)),
                    OutputFormat.Cell(OutputFormat.Ago(t.LastUsedAt, now)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}
