using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class TokensCommandTests() : FakeApiTests(useApi: true)
{
    [Fact]
    public async Task Create_PrintsTokenOnceWithWarning()
    {
        var run = await Cli.RunAsync("tokens", "create", "--name", "ci", "--expires", "30d");

        Assert.True(run.ExitCode == 0, run.ToString());
        var request = Assert.Single(Api.TokenRequests);
        Assert.Equal(new("ci", "30d"), request);
        var id = Assert.Single(Api.Tokens.Keys);
        Assert.Contains($"secret-{id}", run.Stdout);
        Assert.Contains("won't be shown again", run.Stdout);
    }

    [Theory]
    [InlineData("never", "never")]
    [InlineData("12h", "12h")]
    public async Task Create_WithLifetime_SendsIt(string option, string sent)
    {
        var run = await Cli.RunAsync("tokens", "create", "--expires", option);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(sent, Assert.Single(Api.TokenRequests).ExpiresIn);
        Assert.Contains(option == "never" ? "expires never" : "expires 20", run.Stdout);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("30")]
    [InlineData("5000d")]
    public async Task Create_WithBadLifetime_IsUsageErrorAndSendsNothing(string option)
    {
        var run = await Cli.RunAsync("tokens", "create", "--expires", option);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: invalid --expires '{option}': {ManagedServers.Contracts.Api.TokenLifetimes.Hint}", run.ErrorLine);
        Assert.Empty(Api.TokenRequests);
    }

    [Fact]
    public async Task Create_Json()
    {
        var run = await Cli.RunAsync("tokens", "create", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.StartsWith("secret-", doc.RootElement.GetProperty("token").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_And_Revoke()
    {
        await Cli.RunAsync("tokens", "create", "--name", "first");
        var id = Assert.Single(Api.Tokens.Keys);

        var list = await Cli.RunAsync("tokens", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(id, list.Stdout);
        Assert.Contains("first", list.Stdout);
        Assert.DoesNotContain("secret-", list.Stdout);

        var revoke = await Cli.RunAsync("tokens", "revoke", id);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Empty(Api.Tokens);

        var again = await Cli.RunAsync("tokens", "revoke", id);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: Not Found: no token {id}", again.ErrorLine);
    }
}
