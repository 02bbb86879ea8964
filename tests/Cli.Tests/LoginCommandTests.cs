using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class LoginCommandTests() : FakeApiTests(useApi: false)
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task Login_WithUserAndPassword_CreatesVerifiesAndStoresToken()
    {
        var run = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User, "--password", FakeApi.Password);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("msctl@testhost", Assert.Single(Api.TokenRequests).Name);
        var token = Assert.Single(Api.Tokens.Keys);
        Assert.Equal(["POST /api/v1/tokens", "GET /api/v1/servers?per_page=1"], Api.Requests);
        Assert.StartsWith("Basic ", Api.Authorizations.First(), StringComparison.Ordinal);
        Assert.Equal($"Bearer secret-{token}", Api.Authorizations.Last());

        Assert.Equal(Mode0600, File.GetUnixFileMode(Cli.ConfigFile));
        Assert.Equal(Mode0700, File.GetUnixFileMode(Path.GetDirectoryName(Cli.ConfigFile)!));
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Cli.ConfigFile));
        Assert.Equal(Api.Url, config.RootElement.GetProperty("url").GetString());
        Assert.Equal($"secret-{token}", config.RootElement.GetProperty("token").GetString());
        Assert.Contains("Logged in", run.Stdout);
    }

    [Fact]
    public async Task Login_ThenCommandsUseSavedLogin_ThenLogoutDeletesIt()
    {
        Cli.Env["MANAGEDSERVERS_PASSWORD"] = FakeApi.Password;
        var login = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User);
        Assert.True(login.ExitCode == 0, login.ToString());
        Api.AddServer("dns-01");

        var list = await Cli.RunAsync("servers", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("dns-01", list.Stdout);

        var logout = await Cli.RunAsync("logout");
        Assert.Equal(0, logout.ExitCode);
        Assert.False(File.Exists(Cli.ConfigFile));

        var after = await Cli.RunAsync("servers", "list");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("msctl login", after.ErrorLine);
    }

    [Fact]
    public async Task SavedToken_IsNotSentToAnotherUrl()
    {
        var login = await Cli.RunAsync("login", "--url", Api.Url, "--token", FakeApi.GoodToken);
        Assert.True(login.ExitCode == 0, login.ToString());
        await using var other = await FakeApi.StartAsync();

        var run = await Cli.RunAsync("servers", "list", "--url", other.Url);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: not authenticated (run 'msctl login')", run.ErrorLine);
        Assert.Equal([""], other.Authorizations);
    }

    [Fact]
    public async Task Login_WithToken_VerifiesAndStores()
    {
        var run = await Cli.RunAsync("login", "--url", Api.Url, "--token", FakeApi.GoodToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["GET /api/v1/servers?per_page=1"], Api.Requests);
        Assert.Contains(FakeApi.GoodToken, await File.ReadAllTextAsync(Cli.ConfigFile));
    }

    [Fact]
    public async Task Login_WithBadToken_FailsAndSavesNothing()
    {
        var run = await Cli.RunAsync("login", "--url", Api.Url, "--token", "nope");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: login failed: the control plane rejected the token", run.ErrorLine);
        Assert.False(File.Exists(Cli.ConfigFile));
    }

    [Fact]
    public async Task Login_WithWrongPassword_FailsAndSavesNothing()
    {
        var run = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User, "--password", "wrong");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: login failed: wrong user name or password", run.ErrorLine);
        Assert.False(File.Exists(Cli.ConfigFile));
    }

    [Fact]
    public async Task Login_NonInteractiveWithoutPassword_IsUsageError()
    {
        var run = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("MANAGEDSERVERS_PASSWORD", run.ErrorLine);
        Assert.Empty(Api.Requests);
    }

    [Fact]
    public async Task Login_Interactive_PromptsForPassword()
    {
        Cli.Interactive = true;
        Cli.Input.Add(FakeApi.Password);

        var run = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(FakeApi.Password, run.Stdout);
        Assert.True(File.Exists(Cli.ConfigFile));
    }

    [Fact]
    public async Task Login_Unreachable_Exits2()
    {
        var run = await Cli.RunAsync("login", "--url", TestUtil.ClosedPortUrl(), "--token", "t");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: cannot reach http://127.0.0.1:", run.ErrorLine, StringComparison.Ordinal);
        Assert.False(File.Exists(Cli.ConfigFile));
    }

    [Fact]
    public async Task Logout_WhenNotLoggedIn_Succeeds()
    {
        var run = await Cli.RunAsync("logout");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Not logged in", run.Stdout);
    }
}
