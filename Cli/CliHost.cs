using Spectre.Console;

namespace ManagedServers.Cli;

/// <summary>
/// Everything a command needs from the outside world: consoles, environment, clock, host name.
/// Production code uses <see cref="CreateDefault"/>; tests substitute a TestConsole, a StringWriter and a fake environment.
/// </summary>
internal sealed class CliHost
{
    /// <summary>Rich output (tables, prompts, later progress bars) on stdout.</summary>
    public required IAnsiConsole Console { get; init; }

    /// <summary>Plain stderr: error lines and warnings only.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Environment variable lookup.</summary>
    public Func<string, string?> GetEnv { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>True when stdin is a terminal, so prompts and confirmations are possible.</summary>
    public bool IsInteractive { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Standard input, for secrets piped in (<c>--password-stdin</c>).</summary>
    public TextReader In { get; init; } = TextReader.Null;

    public string HostName { get; init; } = Environment.MachineName;

    /// <summary>Base for relative paths (for example the default bundle file).</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>Timeout of one HTTP request.</summary>
    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Raw stdout writer of <see cref="Console"/>, for machine-readable output that must not be wrapped.</summary>
    public TextWriter Out => Console.Profile.Out.Writer;

    public static CliHost CreateDefault() => new()
    {
        Console = AnsiConsole.Console,
        Error = System.Console.Error,
        IsInteractive = !System.Console.IsInputRedirected,
        In = System.Console.In,
    };
}
