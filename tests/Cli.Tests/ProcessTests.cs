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
