using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>msctl as a process against a real silo (its unit tests use a fake API; this is the integration).</summary>
public sealed class CliEndToEndTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ms-cli-" + Guid.NewGuid().ToString("N")[..10]);
    private SiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = new SiloProcess(Path.Combine(_dir, "silo"));
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<(int Code, string Out)> MsctlAsync(bool withToken, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["XDG_CONFIG_HOME"] = Path.Combine(_dir, "config"),
            ["HOME"] = _dir,
            ["MANAGEDSERVERS_URL"] = _silo.BaseUrl,
            ["MANAGEDSERVERS_PASSWORD"] = SiloProcess.AdminPassword,
        };
        if (withToken)
        {
            env["MANAGEDSERVERS_TOKEN"] = _silo.Token;
        }

        using var process = new ChildProcess(Build.CliDll, args, env);
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "msctl hung: " + process.Output);
        return (process.ExitCode, process.Output);
    }

    [Fact]
    public async Task Login_add_list_show_bundle_and_delete_through_the_real_api()
    {
        var (code, text) = await MsctlAsync(false, "login", "--user", "admin");
        Assert.True(code == 0, text);
        var config = Path.Combine(_dir, "config", "managedservers", "config.json");
        Assert.True(File.Exists(config));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));

        (code, text) = await MsctlAsync(false, "servers", "add", "cli-dns", "--kind", "dns", "--address", "127.0.0.1", "-o", "json");
        Assert.True(code == 0, text);
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;

        (code, text) = await MsctlAsync(false, "servers", "add", "CLI-DNS", "--kind", "dns");
        Assert.Equal(1, code);
        Assert.Contains("already exists", text, StringComparison.Ordinal);
        Assert.Single(text.Trim().Split('\n'));

        (code, text) = await MsctlAsync(false, "servers", "add", "bad", "--kind", "dnsx");
        Assert.Equal(1, code);
        Assert.Contains("kind", text, StringComparison.Ordinal);

        (code, text) = await MsctlAsync(true, "servers", "list", "-o", "json");
        Assert.True(code == 0, text);
        var page = JsonDocument.Parse(text).RootElement;
        Assert.Equal(1, page.GetProperty("total").GetInt32());

        (code, text) = await MsctlAsync(true, "servers", "show", "cli-dns");
        Assert.True(code == 0, text);
        Assert.Contains(id, text, StringComparison.Ordinal);
        Assert.Contains("pending", text, StringComparison.Ordinal);

        var bundle = Path.Combine(_dir, "cli-dns.bundle.json");
        (code, text) = await MsctlAsync(true, "servers", "bundle", "cli-dns", "-f", bundle);
        Assert.True(code == 0, text);
        var parsed = JsonSerializer.Deserialize(await File.ReadAllTextAsync(bundle), ContractsJson.Default.SetupBundle)!;
        Assert.Equal(id, parsed.ServerId);
        Assert.Contains("BEGIN CERTIFICATE", parsed.CaCertificatePem, StringComparison.Ordinal);

        (code, text) = await MsctlAsync(true, "servers", "delete", "cli-dns", "--yes");
        Assert.True(code == 0, text);
        Assert.Null(await _silo.GetServerAsync(id));

        (code, text) = await MsctlAsync(true, "servers", "list");
        Assert.True(code == 0, text);
        Assert.Contains("No servers yet", text, StringComparison.Ordinal);
    }
}
