using ManagedServers.Api;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Shared.Security;
using ManagedServers.Silo;
using ManagedServers.Silo.Pull;
using ManagedServers.Silo.Telemetry;
using Microsoft.AspNetCore.DataProtection;
using Orleans.Dashboard;

// The content root is the silo's own directory, so its appsettings.json (log levels) applies wherever it is started
// from (run.sh starts it from the repository root); relative paths such as DataDir stay relative to the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
// The web UI's files (ours and MudBlazor's) from the build output too, not only from a published app (no-op when published).
builder.WebHost.UseStaticWebAssets();

// Microsoft.Data.Sqlite has no real async I/O: its "async" calls block a pool thread for the write
// and fsync. Let the pool grow without the hill-climbing delay so those waits do not queue requests.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, builder.Configuration.GetValue("MinThreads", 64)), minIo);
// The data directory holds the database and the key that unseals the CA key: owner only, or the silo does not start.
try
{
    ManagedServers.Silo.Storage.DataDirectory.Prepare(builder.Configuration["DataDir"] ?? ".data", builder.Configuration.GetValue(ManagedServers.Silo.Storage.DataDirectory.AllowSharedKey, false));
}
catch (InvalidOperationException ex)
{
    await Console.Error.WriteLineAsync("error: " + ex.Message);
    return 1;
}

var storage = SiloConfiguration.StorageFrom(builder.Configuration);

// A malformed Secrets:Key stops the silo now rather than at the first secret it reads.
if (builder.Configuration["Secrets:Key"] is { Length: > 0 } secretKey)
{
    _ = ManagedServers.Shared.Security.SecretBox.Load(secretKey, string.Empty);
}

// The UI's session cookies and anti-forgery tokens are sealed with ASP.NET Core data protection: its keys live in the
// data directory (owner only), so sessions survive a restart. Several silos behind one address need the same keys: see docs/ui.md.
builder.Services.AddDataProtection()
    .SetApplicationName("ManagedServers")
    .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(builder.Configuration["DataDir"] ?? ".data", "ui-keys")));

builder.UseOrleans(silo => silo.ConfigureManagedServers(builder.Configuration, storage).AddDashboard());
builder.Services.AddManagedServersApi();
builder.Services.AddSingleton<ManagedServers.Grains.Servers.IAgentBrokerUsers, ManagedServers.Silo.Broker.GrainBrokerUsers>(); // grains remove broker users through the API host's client
builder.Services.AddAgentPuller(builder.Configuration); // pull mode: the control plane fetches samples from agents
builder.Services.AddManagedServersMetrics(builder.Configuration);
builder.Services.AddHostedService<StartupTasks>();
builder.WebHost.ConfigureKestrel((context, kestrel) => KestrelSetup.Configure(kestrel, context.Configuration));

var app = builder.Build();
if (storage.Mode == ManagedServers.Silo.Storage.StorageMode.Postgres && string.IsNullOrWhiteSpace(builder.Configuration["Secrets:Key"]))
{
    app.Logger.LogWarning("Cluster mode without Secrets:Key: this silo seals secrets (the RabbitMQ password) with its own DataDir/secret.key, which other silos cannot read. Give every silo the same Secrets:Key");
}

app.UseManagedServersApi();

// Prometheus: no token by default (Metrics:RequireToken=true asks for a people token).
app.MapManagedServersMetrics();

// The Orleans dashboard, for admins: HTTP Basic (a browser prompts) or a Bearer token.
app.MapOrleansDashboard(routePrefix: "/dashboard")
    .RequireAuthorization(p => p.AddAuthenticationSchemes(AuthNames.BasicScheme, AuthNames.BearerScheme).RequireRole(Groups.Admins));
await app.RunAsync();
return 0;

/// <summary>The silo host's entry point (public for WebApplicationFactory).</summary>
public partial class Program;

/// <summary>Work after the silo is up: the first admin user.</summary>
internal sealed class StartupTasks(IGrainFactory grains) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => AdminBootstrap.EnsureAdminAsync(grains, Console.Out);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
