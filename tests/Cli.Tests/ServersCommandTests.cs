using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class ServersCommandTests() : FakeApiTests(useApi: true)
{
    [Fact]
    public async Task List_PrintsTableWithStatesVersionsAndFooter()
    {
        var dns = Api.AddServer("dns-01", lastHeartbeat: FakeApi.Now.AddSeconds(-12), dnsVersion: "9.18.28");
        Api.AddServer("dhcp-01", kind: "dhcp", state: "unreachable", lastHeartbeat: FakeApi.Now.AddMinutes(-5), dhcp4Version: "2.2.0", dhcp6Version: "2.2.1");
        Api.AddServer("backup-01", kind: "backup", state: "pending");

        var run = await Cli.RunAsync("servers", "list");
        Assert.Contains("IPv4: 2.2.0 - IPv6: 2.2.1", Assert.Single(run.Stdout.Split('\n'), l => l.Contains("dhcp-01")), StringComparison.Ordinal);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);
        foreach (var expected in new[] { "NAME", "ID", "KIND", "STATE", "LAST HEARTBEAT", "REQUESTS 2 MIN", "MONITOR", "DNS", "DHCP" })
        {
            Assert.Contains(expected, run.Stdout);
        }

        var dnsLine = Assert.Single(run.Stdout.Split('\n'), l => l.Contains("dns-01"));
        Assert.Contains(dns.Id, dnsLine);
        Assert.Contains("running", dnsLine);
        Assert.Contains("12s ago", dnsLine);
        Assert.Contains("9.18.28", dnsLine);
        var backupLine = Assert.Single(run.Stdout.Split('\n'), l => l.Contains("backup-01"));
        Assert.Contains("never", backupLine);
        Assert.Contains(" - ", backupLine);
        Assert.Contains("5m ago", run.Stdout);
        Assert.Contains("Showing 1–3 of 3", run.Stdout);
        Assert.Contains($"Bearer {FakeApi.GoodToken}", Api.Authorizations);
    }

    [Fact]
    public async Task List_PassesQueryPagingAndSort_AndFooterShowsRange()
    {
        for (var i = 1; i <= 25; i++)
        {
            Api.AddServer($"dns-{i:D2}");
        }

        var run = await Cli.RunAsync("servers", "list", "--q", "dns", "--page", "2", "--per-page", "10", "--sort", "-name");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("GET /api/v1/servers?q=dns&page=2&per_page=10&sort=-name", Api.Requests);
        Assert.Contains("Showing 11–20 of 25", run.Stdout);
        Assert.Contains("dns-15", run.Stdout); // descending: 25..16 on page 1, 15..06 on page 2
        Assert.DoesNotContain("dns-16", run.Stdout);
    }

    [Fact]
    public async Task List_Json_PrintsOnlyTheApiJson()
    {
        Api.AddServer("dns-01", lastHeartbeat: FakeApi.Now);

        var run = await Cli.RunAsync("servers", "list", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(20, doc.RootElement.GetProperty("per_page").GetInt32());
        var item = Assert.Single(doc.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("dns-01", item.GetProperty("name").GetString());
        Assert.Contains("\n  \"items\"", run.Stdout); // pretty
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task List_Empty_ShowsHowToAddOne()
    {
        var run = await Cli.RunAsync("servers", "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("No servers yet. Add one with: msctl servers add NAME --kind dns", run.Stdout.Trim());
    }

    [Fact]
    public async Task Add_CreatesServer_AndPrintsNextStep()
    {
        var run = await Cli.RunAsync("servers", "add", "dns-07", "--kind", "dns", "--address", "10.1.1.1", "--runtime", "exec");

        Assert.True(run.ExitCode == 0, run.ToString());
        var server = Assert.Single(Api.Servers.Values);
        Assert.Equal("dns-07", server.Name);
        Assert.Contains("Created dns server dns-07", run.Stdout);
        Assert.Contains("msctl servers bundle dns-07", run.Stdout);
    }

    [Fact]
    public async Task Add_PullMode_SendsThePullPort_AndRefusesAPortOutOfRange()
    {
        var run = await Cli.RunAsync("servers", "add", "dns-08", "--kind", "dns", "--communication", "pull", "--pull-port", "9555");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(9555, Api.LastCreate?.PullPort);
        Assert.Equal("pull", Api.LastCreate?.Communication);

        var bad = await Cli.RunAsync("servers", "add", "dns-09", "--kind", "dns", "--pull-port", "70000");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--pull-port must be between 1 and 65535", bad.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Api.Servers.Values, s => s.Name == "dns-09");
    }

    [Fact]
    public async Task Add_Json_PrintsCreatedServer()
    {
        var run = await Cli.RunAsync("servers", "add", "dns-07", "--kind", "dns", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal("dns-07", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal("pending", doc.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Add_WithFieldErrors_PrintsOneLineAndExits1()
    {
        var run = await Cli.RunAsync("servers", "add", "Bad_Name", "--kind", "mail");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            "error: One or more validation errors occurred: name: must be lowercase letters, digits and '-'; kind: must be one of dns, dhcp, backup",
            run.ErrorLine);
        Assert.Equal("", run.Stdout);
        Assert.Empty(Api.Servers);
    }

    [Fact]
    public async Task Add_Duplicate_ShowsConflictDetail()
    {
        Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "add", "dns-01", "--kind", "dns");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Conflict: a server named 'dns-01' already exists", run.ErrorLine);
    }

    [Fact]
    public async Task Add_WithoutKind_IsUsageError()
    {
        var run = await Cli.RunAsync("servers", "add", "dns-01");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: --kind is required", run.ErrorLine);
        Assert.Empty(Api.Requests);
    }

    [Fact]
    public async Task Show_ByName_ResolvesThroughListAndPrintsDetails()
    {
        Api.AddServer("dns-010");
        var target = Api.AddServer("dns-01", lastHeartbeat: FakeApi.Now.AddSeconds(-3));

        var run = await Cli.RunAsync("servers", "show", "dns-01");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(target.Id, run.Stdout);
        Assert.Contains(target.Address, run.Stdout);
        Assert.Contains("3s ago", run.Stdout);
        Assert.Contains("GET /api/v1/servers/dns-01", Api.Requests);
        Assert.Contains(Api.Requests, r => r.StartsWith("GET /api/v1/servers?q=dns-01", StringComparison.Ordinal));
        Assert.Contains($"GET /api/v1/servers/{target.Id}", Api.Requests);
    }

    [Fact]
    public async Task Show_ById_Json()
    {
        var target = Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "show", target.Id, "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(target.Id, doc.RootElement.GetProperty("id").GetString());
        Assert.Single(Api.Requests);
    }

    [Fact]
    public async Task Show_Unknown_Exits1()
    {
        Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "show", "nope");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: no server with id or name 'nope'", run.ErrorLine);
    }

    [Fact]
    public async Task Delete_NonInteractiveWithoutYes_RefusesWithoutCallingTheApi()
    {
        Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "delete", "dns-01");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--yes", run.ErrorLine);
        Assert.Empty(Api.Requests);
        Assert.Single(Api.Servers);
    }

    [Fact]
    public async Task Delete_WithYes_Deletes()
    {
        var server = Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "delete", "dns-01", "--yes");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"DELETE /api/v1/servers/{server.Id}", Api.Requests);
        Assert.Empty(Api.Servers);
        Assert.Contains("Deleted server dns-01", run.Stdout);
    }

    [Theory]
    [InlineData("y", 0, true)]
    [InlineData("n", 1, false)]
    public async Task Delete_Interactive_AsksForConfirmation(string answer, int exitCode, bool deleted)
    {
        Api.AddServer("dns-01");
        Cli.Interactive = true;
        Cli.Input.Add(answer);

        var run = await Cli.RunAsync("servers", "delete", "dns-01");

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains("Delete server dns-01", run.Stdout);
        Assert.Equal(deleted, Api.Servers.IsEmpty);
    }

    [Fact]
    public async Task Bundle_WritesFileWithMode0600_AndPrintsNextStep()
    {
        var server = Api.AddServer("dns-01");
        var file = Path.Combine(Cli.Root, "out.bundle.json");

        var run = await Cli.RunAsync("servers", "bundle", "dns-01", "-f", file);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(FakeApi.BundleBytes, await File.ReadAllBytesAsync(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Contains($"GET /api/v1/servers/{server.Id}/setup-bundle", Api.Requests);
        Assert.Contains($"ManagedServers.Agent enroll --bundle {file} --state-dir /var/lib/managedservers-agent", run.Stdout);
    }

    [Fact]
    public async Task Bundle_DefaultsToNameInWorkingDirectory_AndReplacesLooseModes()
    {
        Api.AddServer("dns-01");
        var expected = Path.Combine(Cli.WorkDir, "dns-01.bundle.json");
        await File.WriteAllTextAsync(expected, "old");
        File.SetUnixFileMode(expected, (UnixFileMode)0b110_100_100); // 0644

        var run = await Cli.RunAsync("servers", "bundle", "dns-01");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(FakeApi.BundleBytes, await File.ReadAllBytesAsync(expected));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(expected));
        Assert.Equal(["dns-01.bundle.json"], Directory.GetFiles(Cli.WorkDir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Ping_PrintsRoundTripAndAgentVersion()
    {
        Api.AddServer("dns-01");

        var run = await Cli.RunAsync("servers", "ping", "dns-01");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("round trip 12.3 ms", run.Stdout);
        Assert.Contains("agent 1.2.3", run.Stdout);
    }

    [Fact]
    public async Task BadToken_IsNotAuthenticated()
    {
        Cli.UseApi(Api, token: "wrong");

        var run = await Cli.RunAsync("servers", "list");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: not authenticated: the token is not valid (revoked, or not issued by this control plane): create a new one (POST /api/v1/tokens, or msctl login)", run.ErrorLine);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task UrlOption_OverridesEnvironment()
    {
        Cli.Env["MANAGEDSERVERS_URL"] = "http://127.0.0.1:1";

        var run = await Cli.RunAsync("servers", "list", "--url", Api.Url + "/api/v1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("GET /api/v1/servers", Api.Requests);
    }
}
