using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class LoginCommandTests : IAsyncLifetime, IDisposable
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly CliTestHost _cli = new();
    private FakeApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Login_WithUserAndPassword_CreatesVerifiesAndStoresToken()
    {
        var run = await _cli.RunAsync("login", "--url", _api.Url, "--user", FakeApi.User, "--password", FakeApi.Password);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("msctl@testhost", Assert.Single(_api.TokenRequests).Name);
        var token = Assert.Single(_api.Tokens.Keys);
        Assert.Equal(["POST /api/v1/tokens", "GET /api/v1/servers?per_page=1"], _api.Requests);
        Assert.StartsWith("Basic ", _api.Authorizations.First(), StringComparison.Ordinal);
        Assert.Equal($"Bearer secret-{token}", _api.Authorizations.Last());

        Assert.Equal(Mode0600, File.GetUnixFileMode(_cli.ConfigFile));
        Assert.Equal(Mode0700, File.GetUnixFileMode(Path.GetDirectoryName(_cli.ConfigFile)!));
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(_cli.ConfigFile));
        Assert.Equal(_api.Url, config.RootElement.GetProperty("url").GetString());
        Assert.Equal($"secret-{token}", config.RootElement.GetProperty("token").GetString());
        Assert.Contains("Logged in", run.Stdout);
    }

    [Fact]
    public async Task Login_ThenCommandsUseSavedLogin_ThenLogoutDeletesIt()
    {
        _cli.Env["MANAGEDSERVERS_PASSWORD"] = FakeApi.Password;
        var login = await _cli.RunAsync("login", "--url", _api.Url, "--user", FakeApi.User);
        Assert.True(login.ExitCode == 0, login.ToString());
        _api.AddServer("dns-01");

        var list = await _cli.RunAsync("servers", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("dns-01", list.Stdout);

        var logout = await _cli.RunAsync("logout");
        Assert.Equal(0, logout.ExitCode);
        Assert.False(File.Exists(_cli.ConfigFile));

        var after = await _cli.RunAsync("servers", "list");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("msctl login", after.ErrorLine);
    }

    [Fact]
    public async Task SavedToken_IsNotSentToAnotherUrl()
    {
        var login = await _cli.RunAsync("login", "--url", _api.Url, "--token", FakeApi.GoodToken);
        Assert.True(login.ExitCode == 0, login.ToString());
        await using var other = await FakeApi.StartAsync();

        var run = await _cli.RunAsync("servers", "list", "--url", other.Url);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: not authenticated (run 'msctl login')", run.ErrorLine);
        Assert.Equal([""], other.Authorizations);
    }

    [Fact]
    public async Task Login_WithToken_VerifiesAndStores()
    {
        var run = await _cli.RunAsync("login", "--url", _api.Url, "--token", FakeApi.GoodToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["GET /api/v1/servers?per_page=1"], _api.Requests);
        Assert.Contains(FakeApi.GoodToken, await File.ReadAllTextAsync(_cli.ConfigFile));
    }

    [Fact]
    public async Task Login_WithBadToken_FailsAndSavesNothing()
    {
        var run = await _cli.RunAsync("login", "--url", _api.Url, "--token", "nope");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: login failed: the control plane rejected the token", run.ErrorLine);
        Assert.False(File.Exists(_cli.ConfigFile));
    }

    [Fact]
    public async Task Login_WithWrongPassword_FailsAndSavesNothing()
    {
        var run = await _cli.RunAsync("login", "--url", _api.Url, "--user", FakeApi.User, "--password", "wrong");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: login failed: wrong user name or password", run.ErrorLine);
        Assert.False(File.Exists(_cli.ConfigFile));
    }

    [Fact]
    public async Task Login_NonInteractiveWithoutPassword_IsUsageError()
    {
        var run = await _cli.RunAsync("login", "--url", _api.Url, "--user", FakeApi.User);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("MANAGEDSERVERS_PASSWORD", run.ErrorLine);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task Login_Interactive_PromptsForPassword()
    {
        _cli.Interactive = true;
        _cli.Input.Add(FakeApi.Password);

        var run = await _cli.RunAsync("login", "--url", _api.Url, "--user", FakeApi.User);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(FakeApi.Password, run.Stdout);
        Assert.True(File.Exists(_cli.ConfigFile));
    }

    [Fact]
    public async Task Login_Unreachable_Exits2()
    {
        var run = await _cli.RunAsync("login", "--url", TestUtil.ClosedPortUrl(), "--token", "t");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: cannot reach http://127.0.0.1:", run.ErrorLine, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.ConfigFile));
    }

    [Fact]
    public async Task Logout_WhenNotLoggedIn_Succeeds()
    {
        var run = await _cli.RunAsync("logout");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Not logged in", run.Stdout);
    }
}
