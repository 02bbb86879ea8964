using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>msctl as a process against a real silo (its unit tests use a fake API; this is the integration).</summary>
public sealed class CliEndToEndTests() : SiloTestBase("cli")
{
    private Task<(int Code, string Out)> MsctlAsync(bool withToken, params string[] args) => Msctl.RunAsync(Silo, Dir, withToken, args);

    [Fact]
    public async Task Login_add_list_show_bundle_and_delete_through_the_real_api()
    {
        var (code, text) = await MsctlAsync(false, "login", "--user", "admin");
        Assert.True(code == 0, text);
        var config = Path.Combine(Dir, "config", "managedservers", "config.json");
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

        var bundle = Path.Combine(Dir, "cli-dns.bundle.json");
        (code, text) = await MsctlAsync(true, "servers", "bundle", "cli-dns", "-f", bundle);
        Assert.True(code == 0, text);
        var parsed = JsonSerializer.Deserialize(await File.ReadAllTextAsync(bundle), ContractsJson.Default.SetupBundle)!;
        Assert.Equal(id, parsed.ServerId);
        Assert.Contains("BEGIN CERTIFICATE", parsed.CaCertificatePem, StringComparison.Ordinal);

        (code, text) = await MsctlAsync(true, "servers", "delete", "cli-dns", "--yes");
        Assert.True(code == 0, text);
        Assert.Null(await Silo.GetServerAsync(id));

        (code, text) = await MsctlAsync(true, "servers", "list");
        Assert.True(code == 0, text);
        Assert.Contains("No servers yet", text, StringComparison.Ordinal);
    }
}
