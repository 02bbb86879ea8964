using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using Spectre.Console;

namespace ManagedServers.Cli.Commands.Servers;

/// <summary>msctl servers events: what happened to a server's agent identity, newest first.</summary>
internal sealed class ServerEventsCommand(CliHost host) : ApiCommand<ServerIdSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerIdSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.GetServerEventsAsync(server.Id, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            if (result.Value.Length == 0)
            {
                Host.Console.MarkupLineInterpolated($"No events for [bold]{server.Name}[/] yet: enrolments, certificate renewals, revocations and refused certificates show here.");
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create(Tables.Column("When", noWrap: true), Tables.Column("Kind", noWrap: true), Tables.Column("Message"));
            foreach (var e in result.Value)
            {
                var kind = e.Severity == "warning" ? $"[yellow]{Markup.Escape(e.Kind)}[/]" : Markup.Escape(e.Kind);
                table.AddRow(new Markup(Markup.Escape(OutputFormat.Ago(e.At, now))), new Markup(kind), new Markup(Markup.Escape(e.Message)));
            }

            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}
