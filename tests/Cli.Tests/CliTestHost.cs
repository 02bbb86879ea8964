using Spectre.Console.Testing;

namespace ManagedServers.Cli.Tests;

/// <summary>The result of one msctl run.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The single "error: ..." line (asserts there is exactly one stderr line).</summary>
    public string ErrorLine => Assert.Single(StderrLines);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the real command app in-process with a TestConsole, a private config dir and a fake environment.</summary>
internal sealed class CliTestHost : IDisposable
{
    public CliTestHost()
    {
        Root = Directory.CreateTempSubdirectory("msctl-tests-").FullName;
        ConfigHome = Path.Combine(Root, "config");
        WorkDir = Path.Combine(Root, "work");
        Directory.CreateDirectory(WorkDir);
        Env["HOME"] = Path.Combine(Root, "home");
        Env["XDG_CONFIG_HOME"] = ConfigHome;
    }

    public string Root { get; }

    public string ConfigHome { get; }

    public string WorkDir { get; }

    public string ConfigFile => Path.Combine(ConfigHome, "managedservers", "config.json");

    public Dictionary<string, string?> Env { get; } = [];

    public bool Interactive { get; set; }

    /// <summary>What the command reads from stdin (for --password-stdin).</summary>
    public string? Stdin { get; set; }

    /// <summary>Lines typed at prompts (only read when <see cref="Interactive"/>).</summary>
    public List<string> Input { get; } = [];

    /// <summary>Points the CLI at <paramref name="api"/> through MANAGEDSERVERS_URL/MANAGEDSERVERS_TOKEN.</summary>
    public CliTestHost UseApi(FakeApi api, string? token = FakeApi.GoodToken)
    {
        Env["MANAGEDSERVERS_URL"] = api.Url;
        Env["MANAGEDSERVERS_TOKEN"] = token;
        return this;
    }

    public async Task<CliRun> RunAsync(params string[] args)
    {
        var console = new TestConsole().Width(250);
        if (Interactive)
        {
            console.Interactive();
        }

        foreach (var line in Input)
        {
            console.Input.PushTextWithEnter(line);
        }

        var error = new StringWriter();
        var host = new CliHost
        {
            Console = console,
            Error = error,
            GetEnv = name => Env.GetValueOrDefault(name),
            IsInteractive = Interactive,
            In = new StringReader(Stdin ?? string.Empty),
            Time = new FixedTime(FakeApi.Now),
            HostName = "testhost",
            WorkingDirectory = WorkDir,
            HttpTimeout = TimeSpan.FromSeconds(10),
        };
        var code = await CliApp.RunAsync(args, host);
        return new CliRun(code, console.Output, error.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
