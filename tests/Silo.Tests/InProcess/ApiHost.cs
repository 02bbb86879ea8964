using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ManagedServers.Api.Auth;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ManagedServers.Silo.Tests.InProcess;

/// <summary>
/// The silo host in the test process (<see cref="WebApplicationFactory{TEntryPoint}"/> over the real <c>Program</c>: the
/// same configuration, Orleans silo, storage and API; no child process): for endpoint, validation and bad-input tests
/// that test no process boundary. <see cref="Mode"/> SQLite (a scratch data directory) or PostgreSQL (a fresh
/// database). Requests go through the in-memory test server, unless the host is made with <c>kestrel: true</c>: then the
/// silo listens on real loopback ports, for people (<see cref="BaseUrl"/>) and for agents (<see cref="AgentUrl"/>, mTLS),
/// as a browser test or an in-process agent needs.
/// </summary>
public abstract class ApiHost : WebApplicationFactory<Program>, ISiloApi, IAsyncLifetime
{
    public const string AdminPassword = "inprocess-admin-password";
    private readonly string _database = TestPostgres.NewDatabaseName("ms_api_");

    private readonly int? _port;
    private readonly int? _agentPort;

    protected ApiHost(ApiHostMode mode, bool kestrel = false)
    {
        Mode = mode;
        Environment.SetEnvironmentVariable(AdminBootstrap.PasswordVariable, AdminPassword); // the same for every host of this process
        if (kestrel)
        {
            _port = Build.FreePort();
            _agentPort = Build.FreePort();
            UseKestrel();
            ClientOptions.BaseAddress = new Uri(BaseUrl);
        }
    }

    public ApiHostMode Mode { get; }

    /// <summary>The agent listener (mTLS), when the host listens on real ports.</summary>
    public string? AgentUrl => _agentPort is { } port ? $"https://127.0.0.1:{port}" : null;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "ms-api-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>An HTTP client logged in as the admin (a Bearer token).</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The test server's base address (every absolute URL under it reaches the in-memory server), or the real one.</summary>
    public string BaseUrl => _port is { } port ? $"http://127.0.0.1:{port}" : "http://localhost";

    HttpClient ISiloApi.Http => Admin;

    public HttpClient NewClient() => CreateClient();

    /// <summary>A client with no credentials.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Admin = CreateClient();
        Anonymous = CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens") { Content = JsonContent.Create(new CreateTokenRequest("inprocess"), options: ContractsJson.WireOptions) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + AdminPassword)));
        using var response = await Admin.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"login: {(int)response.StatusCode} {body}");
        var token = System.Text.Json.JsonSerializer.Deserialize<CreatedToken>(body, ContractsJson.WireOptions)!;
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);

        // The settings reached the host before Program read them: the admin user lives where this host said.
        var found = (await RowsMentioningAsync("admin")).Count;
        Assert.True(found > 0, $"the in-process silo did not use its {Mode} storage");
    }

    /// <summary>The rows of this host's database (SQLite file or PostgreSQL database) whose content mentions <paramref name="needle"/>.</summary>
    public Task<List<string>> RowsMentioningAsync(string needle) => Mode == ApiHostMode.Sqlite
        ? Storage.DatabaseScan.SqliteRowsMentioningAsync(DataDir, needle)
        : Storage.DatabaseScan.PostgresRowsMentioningAsync(TestPostgres.ConnectionString(_database), needle);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production"); // as the silo runs (WebApplicationFactory defaults to Development)
        builder.UseSetting("DataDir", DataDir);
        builder.UseSetting("Orleans:SiloPort", Build.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", Build.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:ClusterId", "api-" + Guid.NewGuid().ToString("N")[..8]);
        if (_port is { } port && AgentUrl is { } agentUrl)
        {
            builder.UseSetting("urls", $"http://127.0.0.1:{port}");
            builder.UseSetting("AgentUrls", agentUrl);
        }

        if (Mode == ApiHostMode.Postgres)
        {
            foreach (var (key, value) in TestPostgres.SiloArgs(_database))
            {
                builder.UseSetting(key, value);
            }
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        Admin?.Dispose();
        Anonymous?.Dispose();
        await DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Mode == ApiHostMode.Postgres)
        {
            await TestPostgres.DropAsync(_database);
        }

        try
        {
            Directory.Delete(DataDir, true);
        }
        catch (IOException)
        {
        }
    }
}

public enum ApiHostMode
{
    Sqlite,
    Postgres,
}

/// <summary>The embedded default: SQLite in a scratch data directory.</summary>
public sealed class SqliteApiHost() : ApiHost(ApiHostMode.Sqlite);

/// <summary>Cluster mode: a fresh PostgreSQL database (dropped afterwards).</summary>
public sealed class PostgresApiHost() : ApiHost(ApiHostMode.Postgres);
