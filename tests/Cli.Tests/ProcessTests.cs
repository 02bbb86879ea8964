using System.Diagnostics;
using System.Text.Json;

namespace ManagedServers.Cli.Tests;

/// <summary>msctl as a real process (dotnet msctl.dll ...), configured only through environment variables.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly CliTestHost _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task RunsAsProcess_WithUrlAndTokenFromEnvironment()
    {
        await using var api = await FakeApi.StartAsync();
        api.AddServer("dns-01");

        var (code, stdout, stderr) = await RunProcessAsync(new()
        {
            ["MANAGEDSERVERS_URL"] = api.Url,
            ["MANAGEDSERVERS_TOKEN"] = FakeApi.GoodToken,
        }, "servers", "list", "-o", "json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("dns-01", doc.RootElement.GetProperty("items")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task ProcessErrors_GoToStderr()
    {
        var (code, stdout, stderr) = await RunProcessAsync(new() { ["MANAGEDSERVERS_URL"] = TestUtil.ClosedPortUrl() }, "servers", "list");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: cannot reach", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private const string LongName = "demo-dns-with-a-rather-long-name-01";

    [Fact]
    public async Task Piped_without_COLUMNS_a_table_is_not_wrapped()
    {
        await using var api = await FakeApi.StartAsync();
        var server = api.AddServer(LongName);
        api.AddServer("dns-02");

        var (code, stdout, stderr) = await RunProcessAsync(Env(api), "servers", "list");

        Assert.True(code == 0, stderr);
        var row = Assert.Single(stdout.Split('\n'), l => l.Contains(LongName, StringComparison.Ordinal));
        Assert.Contains(server.Id, row, StringComparison.Ordinal);
        Assert.Contains("running", row, StringComparison.Ordinal);
        Assert.Contains("NAME", stdout, StringComparison.Ordinal);
        Assert.True(stdout.Split('\n').Max(l => l.Length) > 80, "the table was fitted to 80 columns:\n" + stdout);
    }

    [Theory]
    [InlineData(118)] // narrower than the table (124) but wide enough for its longest words (113): headers wrap
    [InlineData(60)] // too narrow for its words: written wider, nothing broken
    [InlineData(20)]
    public async Task Piped_with_COLUMNS_a_table_fits_it_without_breaking_a_word(int columns)
    {
        await using var api = await FakeApi.StartAsync();
        var server = api.AddServer(LongName);
        var env = Env(api);
        env["COLUMNS"] = columns.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (code, stdout, stderr) = await RunProcessAsync(env, "servers", "list");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var word in new[] { LongName, server.Id, "running", "HEARTBEAT", "1.0.0" })
        {
            Assert.True(lines.Any(l => l.Contains(word, StringComparison.Ordinal)), $"'{word}' is broken at COLUMNS={columns}:\n{stdout}");
        }

        // The table fits COLUMNS when its longest words do; narrower, it is written wider rather than broken.
        var table = lines.Where(l => l.StartsWith('╭') || l.StartsWith('│') || l.StartsWith('╰') || l.StartsWith('├')).ToList();
        Assert.NotEmpty(table);
        if (columns >= 113)
        {
            Assert.All(table, l => Assert.True(l.Length <= columns, $"{l.Length} > {columns}: {l}"));
            Assert.Contains(lines, l => l.Contains("LAST ", StringComparison.Ordinal) && !l.Contains("HEARTBEAT", StringComparison.Ordinal));
        }
    }

    private static Dictionary<string, string> Env(FakeApi api) => new()
    {
        ["MANAGEDSERVERS_URL"] = api.Url,
        ["MANAGEDSERVERS_TOKEN"] = FakeApi.GoodToken,
    };

    private async Task<(int Code, string Stdout, string Stderr)> RunProcessAsync(Dictionary<string, string> env, params string[] args)
    {
        var dll = typeof(CliApp).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["XDG_CONFIG_HOME"] = _cli.ConfigHome;
        psi.Environment.Remove("MANAGEDSERVERS_URL");
        psi.Environment.Remove("MANAGEDSERVERS_TOKEN");
        psi.Environment.Remove("COLUMNS");
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
