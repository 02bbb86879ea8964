using Spectre.Console;

namespace ManagedServers.Cli.Commands;

/// <summary>Destructive commands ask first: --yes skips the question, and without a terminal --yes is required.</summary>
internal static class Confirmation
{
    /// <summary>Refuses (usage error) when there is no terminal to ask on and --yes was not given; call before any request.</summary>
    public static void Check(CliHost host, bool yes, string verb)
    {
        if (!yes && !host.IsInteractive)
        {
            throw new CliUsageException($"refusing to {verb} without confirmation: stdin is not a terminal, pass --yes");
        }
    }

    /// <summary>True when --yes was given or the person said yes; otherwise prints "Aborted; nothing {done}." and returns false.</summary>
    public static async Task<bool> AskAsync(CliHost host, bool yes, string question, string done, CancellationToken cancellationToken)
    {
        if (yes || await host.Console.ConfirmAsync(question, defaultValue: false, cancellationToken))
        {
            return true;
        }

        host.Console.MarkupLine($"Aborted; nothing {Markup.Escape(done)}.");
        return false;
    }
}
