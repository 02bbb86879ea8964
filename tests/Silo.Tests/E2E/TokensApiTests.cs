using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// API tokens on a real silo, on each storage mode: a default lifetime (here set with Tokens:DefaultLifetime),
/// "never" only when asked, a 401 that says why (none sent, not valid, expired) and msctl saying it in one line,
/// and msctl login replacing the token it made before.
/// </summary>
public abstract class TokensApiTests(IDictionary<string, string> storageArgs) : SiloTestBase("tokens", storageArgs)
{
    private static readonly Dictionary<string, string> Lifetime = new() { ["Tokens:DefaultLifetime"] = "7d" };

    protected static IDictionary<string, string> With(IDictionary<string, string> storage) =>
        new Dictionary<string, string>(storage.Concat(Lifetime));

    [Fact]
    public async Task Tokens_expire_by_default_and_never_only_on_request()
    {
        var before = DateTimeOffset.UtcNow;
        var byDefault = await CreateAsync("""{"name":"default"}""");
        Assert.InRange(byDefault.ExpiresAt!.Value, before.AddDays(7).AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(7).AddMinutes(1));
        Assert.Null((await CreateAsync("""{"name":"forever","expires_in":"never"}""")).ExpiresAt);
        Assert.InRange((await CreateAsync("""{"expires_in":"12h"}""")).ExpiresAt!.Value, before.AddHours(12).AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12).AddMinutes(1));

        using var bad = await PostTokenAsync("""{"expires_in":"soon"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.Contains("'soon' is not a duration", problem.RootElement.GetProperty("errors").GetProperty("expires_in")[0].GetString(), StringComparison.Ordinal);

        var listed = await Silo.Http.GetFromJsonAsync<TokenView[]>($"{Silo.BaseUrl}/api/v1/tokens", ContractsJson.WireOptions);
        Assert.Contains(listed!, t => t.Name == "forever" && t.ExpiresAt is null);
        Assert.Contains(listed!, t => t.Id == byDefault.Id && t.ExpiresAt == byDefault.ExpiresAt);
    }

    [Fact]
    public async Task A_refused_token_says_why_and_msctl_says_it_in_one_line()
    {
        Assert.Equal("no credentials: send 'Authorization: Bearer <token>' (create one with POST /api/v1/tokens using HTTP Basic, or 'msctl login')", await RefusalAsync(null));
        Assert.StartsWith("the token is not valid: it is not a ManagedServers API token", await RefusalAsync("not-a-token"), StringComparison.Ordinal);
        Assert.StartsWith("the token is not valid (", await RefusalAsync("mst_0123456789abcdef_" + new string('x', 43)), StringComparison.Ordinal);

        var revoked = await CreateAsync("""{"name":"revoked"}""");
        Assert.Equal(HttpStatusCode.NoContent, (await Silo.Http.DeleteAsync($"{Silo.BaseUrl}/api/v1/tokens/{revoked.Id}")).StatusCode);
        Assert.StartsWith("the token is not valid (revoked", await RefusalAsync(revoked.Token), StringComparison.Ordinal);

        var expiring = await CreateAsync("""{"name":"short","expires_in":"2s"}""");
        Assert.Null(await RefusalAsync(expiring.Token));
        await Task.Delay(TimeSpan.FromSeconds(6)); // past the expiry and the API's few seconds of token cache
        var expired = await RefusalAsync(expiring.Token) ?? throw new Xunit.Sdk.XunitException("the expired token was taken");
        Assert.StartsWith($"the token has expired (at {expiring.ExpiresAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)", expired, StringComparison.Ordinal);

        var (code, output) = await Msctl.RunWithTokenAsync(Silo, Dir, expiring.Token, "servers", "list");
        Assert.Equal(1, code);
        Assert.Equal($"error: not authenticated: {expired.Replace("'msctl login'", "msctl login", StringComparison.Ordinal)}", output.Trim());
    }

    [Fact]
    public async Task Msctl_login_replaces_the_token_it_made_before()
    {
        var (code, output) = await Msctl.RunAsync(Silo, Dir, false, "login", "--url", Silo.BaseUrl, "--user", "admin");
        Assert.True(code == 0, output);
        var first = Assert.Single(await MsctlTokensAsync());

        (code, output) = await Msctl.RunAsync(Silo, Dir, false, "login", "--url", Silo.BaseUrl, "--user", "admin");
        Assert.True(code == 0, output);
        var second = Assert.Single(await MsctlTokensAsync());
        Assert.NotEqual(first.Id, second.Id);
        Assert.Contains($"(id {first.Id}) is revoked", output, StringComparison.Ordinal);
        Assert.InRange(second.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(6.9), DateTimeOffset.UtcNow.AddDays(7.1));

        (code, output) = await Msctl.RunAsync(Silo, Dir, false, "logout");
        Assert.True(code == 0, output);
        Assert.Empty(await MsctlTokensAsync());
    }

    private async Task<TokenView[]> MsctlTokensAsync() =>
        [.. (await Silo.Http.GetFromJsonAsync<TokenView[]>($"{Silo.BaseUrl}/api/v1/tokens", ContractsJson.WireOptions))!
            .Where(t => t.Name.StartsWith("msctl@", StringComparison.Ordinal))];

    private async Task<CreatedToken> CreateAsync(string body)
    {
        using var response = await PostTokenAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonSerializer.Deserialize<CreatedToken>(text, ContractsJson.WireOptions)!;
    }

    private Task<HttpResponseMessage> PostTokenAsync(string body) =>
        Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/tokens", new StringContent(body, Encoding.UTF8, "application/json"));

    /// <summary>The 401's detail for <paramref name="token"/> (null: sent no header), or null when the token is taken.</summary>
    private async Task<string?> RefusalAsync(string? token)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Silo.BaseUrl}/api/v1/servers");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString();
    }
}

/// <summary>The embedded default: SQLite.</summary>
public sealed class SqliteTokensApiTests() : TokensApiTests(With(new Dictionary<string, string>()));

/// <summary>Cluster mode: PostgreSQL grain storage.</summary>
public sealed class PostgresTokensApiTests : TokensApiTests
{
    private readonly string _database;

    public PostgresTokensApiTests()
        : this(TestPostgres.NewDatabaseName("ms_tokens_"))
    {
    }

    private PostgresTokensApiTests(string database)
        : base(With(TestPostgres.SiloArgs(database)))
    {
        _database = database;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await TestPostgres.DropAsync(_database);
    }
}
