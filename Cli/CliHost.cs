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

    /// <summary>
    /// True when stdout is a terminal. Off a terminal (piped, redirected) a table never breaks a word to fit
    /// <c>COLUMNS</c> (<see cref="Output.Tables"/>), and without <c>COLUMNS</c> nothing is wrapped at all.
    /// </summary>
    public bool OutputIsTerminal { get; init; }

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

    /// <summary>Width of the output when it is not a terminal and <c>COLUMNS</c> is not set: lines are not wrapped.</summary>
    public const int UnwrappedWidth = 32_767;

    public static CliHost CreateDefault()
    {
        var terminal = !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Console;
        if (Width(Environment.GetEnvironmentVariable("COLUMNS"), terminal) is { } width)
        {
            console.Profile.Width = width;
        }

        return new()
        {
            Console = console,
            Error = System.Console.Error,
            IsInteractive = !System.Console.IsInputRedirected,
            OutputIsTerminal = terminal,
            In = System.Console.In,
        };
    }

    /// <summary>
    /// The output width: <c>COLUMNS</c> when it is a positive number (on a terminal or not); otherwise off a terminal
    /// <see cref="UnwrappedWidth"/> (Spectre.Console would take 80), on a terminal null (its own size).
    /// </summary>
    internal static int? Width(string? columns, bool terminal) =>
        int.TryParse(columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var width) && width > 0
            ? Math.Min(width, UnwrappedWidth)
            : terminal ? null : UnwrappedWidth;
}
