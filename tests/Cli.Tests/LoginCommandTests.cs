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
    public async Task Login_Again_RevokesTheTokenTheFirstLoginMade_AndLogoutRevokesTheLast()
    {
        Cli.Env["MANAGEDSERVERS_PASSWORD"] = FakeApi.Password;
        Assert.Equal(0, (await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User)).ExitCode);
        var first = Assert.Single(Api.Tokens.Keys);

        var again = await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User, "--expires", "7d");

        Assert.True(again.ExitCode == 0, again.ToString());
        var second = Assert.Single(Api.Tokens.Keys);
        Assert.NotEqual(first, second);
        Assert.Contains($"DELETE /api/v1/tokens/{first}", Api.Requests);
        Assert.Equal($"Bearer secret-{second}", Api.Authorizations.Last()); // revoked with the new token
        Assert.Equal("7d", Api.TokenRequests.Last().ExpiresIn);
        Assert.Contains($"(id {first}) is revoked", again.Stdout);
        Assert.False(Api.ValidTokens.ContainsKey($"secret-{first}"));

        var logout = await Cli.RunAsync("logout");

        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.Empty(Api.Tokens);
        Assert.Contains($"(id {second}) is revoked", logout.Stdout);
    }

    [Fact]
    public async Task A_token_given_with_token_is_never_revoked()
    {
        Cli.Env["MANAGEDSERVERS_PASSWORD"] = FakeApi.Password;
        Assert.Equal(0, (await Cli.RunAsync("login", "--url", Api.Url, "--user", FakeApi.User)).ExitCode);
        var made = Assert.Single(Api.Tokens.Keys);

        // Switching to one's own token revokes the one msctl made; that own token survives a later login and logout.
        Assert.Equal(0, (await Cli.RunAsync("login", "--url", Api.Url, "--token", FakeApi.GoodToken)).ExitCode);
        Assert.Empty(Api.Tokens);
        Assert.Contains($"DELETE /api/v1/tokens/{made}", Api.Requests);
        var logout = await Cli.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.Contains("stays valid", logout.Stdout);
        Assert.True(Api.ValidTokens.ContainsKey(FakeApi.GoodToken));
        Assert.Single(Api.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
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
        Assert.Equal($"error: login failed: {FakeApi.NotValidDetail}", run.ErrorLine);
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
