using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ManagedServers.Silo.Tests.E2E;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>GET/PUT /api/v1/settings/rabbitmq and POST .../test through a real silo process.</summary>
public sealed class RabbitMqSettingsApiTests() : BrokerSiloTestBase("rmq-settings")
{
    [Fact]
    public async Task Put_then_get_round_trips_and_the_password_never_shows()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var put = await PutAsync(new RabbitMqSettingsUpdate("127.0.0.1", 5673, "/prod", "control-plane", password, true, null, "amqp"));
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.DoesNotContain(password, put.Body, StringComparison.Ordinal);

        var get = await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq");
        Assert.DoesNotContain(password, get, StringComparison.Ordinal);
        Assert.DoesNotContain("\"password\"", get, StringComparison.Ordinal);
        var view = JsonSerializer.Deserialize<RabbitMqSettingsView>(get, ContractsJson.WireOptions)!;
        Assert.Equal(new RabbitMqSettingsView("127.0.0.1", 5673, "/prod", "control-plane", true, true, "http://127.0.0.1:15672/", "amqp"), view);

        // Omitting the password keeps it while the target stays (here only the default communication changes).
        var same = await PutAsync(new RabbitMqSettingsUpdate(DefaultCommunication: "push"));
        Assert.Equal(HttpStatusCode.OK, same.Status);

        // Another target (port, TLS, management URL) without the password: refused naming it, nothing changes.
        var moved = await PutAsync(new RabbitMqSettingsUpdate(Port: 5672, Tls: false, ManagementUrl: "https://mq.example.org:15671/"));
        Assert.Equal(HttpStatusCode.BadRequest, moved.Status);
        Assert.Contains("\"password\"", moved.Body, StringComparison.Ordinal);
        Assert.Equal(5673, JsonSerializer.Deserialize<RabbitMqSettingsView>(await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq"), ContractsJson.WireOptions)!.Port);

        // With the password it moves.
        var second = await PutAsync(new RabbitMqSettingsUpdate(Port: 5672, Password: password, Tls: false, ManagementUrl: "https://mq.example.org:15671/"));
        Assert.Equal(HttpStatusCode.OK, second.Status);
        var kept = JsonSerializer.Deserialize<RabbitMqSettingsView>(second.Body, ContractsJson.WireOptions)!;
        Assert.True(kept.PasswordSet);
        Assert.Equal(5672, kept.Port);
        Assert.Equal("https://mq.example.org:15671/", kept.ManagementUrl);

        // Not in plain text in the data directory (SQLite file, WAL) nor in the log.
        foreach (var file in Directory.EnumerateFiles(Silo.DataDir, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(password)), $"{file} holds the password in plain text");
        }

        Assert.DoesNotContain(password, Silo.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Silo.DataDir, "secret.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Silo.DataDir, "secret.key")));
    }

    [Fact]
    public async Task Bad_input_gets_field_errors()
    {
        var bad = await PutAsync(new RabbitMqSettingsUpdate("not a host!", 70000, "", "u", "p", false, "ftp://mq/", "pigeon"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("application/problem+json", bad.ContentType);
        using var problem = JsonDocument.Parse(bad.Body);
        var errors = problem.RootElement.GetProperty("errors");
        foreach (var field in new[] { "host", "port", "virtual_host", "management_url", "default_communication" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {bad.Body}");
        }

        var zero = await PutAsync(new RabbitMqSettingsUpdate("mq.example.org", 0, "/", "u"));
        Assert.Equal(HttpStatusCode.BadRequest, zero.Status);
        Assert.Contains("port", zero.Body, StringComparison.Ordinal);

        // Nothing was stored.
        var get = JsonSerializer.Deserialize<RabbitMqSettingsView>(await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq"), ContractsJson.WireOptions)!;
        Assert.Equal(string.Empty, get.Host);
        Assert.Equal("push", get.DefaultCommunication);

        // The endpoints are in the OpenAPI document.
        var openApi = await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/openapi.json");
        Assert.Contains("/api/v1/settings/rabbitmq/test", openApi, StringComparison.Ordinal);
        Assert.Contains("password_set", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_test_endpoint_with_a_wrong_password_gives_a_clear_reason_and_no_crash()
    {
        var admin = Broker.Admin;
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        var result = await TestAsync(new RabbitMqSettingsUpdate(admin.Host, admin.Port, admin.VirtualHost, admin.User, wrong));
        Assert.False(result.Ok);
        Assert.Equal("authentication", result.Reason);
        Assert.Contains(admin.User, result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.Detail, StringComparison.Ordinal);
        Assert.Null(result.ServerVersion);

        using (var health = await Silo.Http.GetAsync($"{Silo.BaseUrl}/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Unknown vhost and a closed port, each with its reason.
        Assert.Equal("vhost", (await TestAsync(new RabbitMqSettingsUpdate(admin.Host, admin.Port, "nope-" + Guid.NewGuid().ToString("N"), admin.User, admin.Password))).Reason);
        Assert.Equal("refused", (await TestAsync(new RabbitMqSettingsUpdate("127.0.0.1", Build.FreePort(), admin.VirtualHost, admin.User, admin.Password))).Reason);

        // Stored settings, no body: ok with the broker's version.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(new RabbitMqSettingsUpdate(admin.Host, admin.Port, admin.VirtualHost, admin.User, admin.Password))).Status);
        using var noBody = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq/test", null);
        Assert.Equal(HttpStatusCode.OK, noBody.StatusCode);
        var ok = (await noBody.Content.ReadFromJsonAsync<RabbitMqTestResult>(ContractsJson.WireOptions))!;
        Assert.True(ok.Ok, ok.Detail);
        Assert.Equal("ok", ok.Reason);
        Assert.False(string.IsNullOrEmpty(ok.ServerVersion));

        // A body without a password uses the stored one against the stored target only; anywhere else the stored
        // password is not sent: 400 naming "password", and the listener there sees no connection.
        Assert.True((await TestAsync(new RabbitMqSettingsUpdate(Port: admin.Port))).Ok);
        var trap = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        try
        {
            using var elsewhere = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq/test", new RabbitMqSettingsUpdate("127.0.0.1", ((IPEndPoint)trap.LocalEndpoint).Port), ContractsJson.WireOptions);
            var text = await elsewhere.Content.ReadAsStringAsync();
            Assert.True(elsewhere.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Contains("\"password\"", text, StringComparison.Ordinal);
            Assert.False(trap.Pending(), "the silo connected to the other target");
            using var otherUser = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq/test", new RabbitMqSettingsUpdate(User: "someone-else"), ContractsJson.WireOptions);
            Assert.Equal(HttpStatusCode.BadRequest, otherUser.StatusCode);
        }
        finally
        {
            trap.Stop();
        }

        Assert.DoesNotContain(wrong, Silo.Output, StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string Body, string? ContentType)> PutAsync(RabbitMqSettingsUpdate update)
    {
        using var response = await Silo.Http.PutAsJsonAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq", update, ContractsJson.WireOptions);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<RabbitMqTestResult> TestAsync(RabbitMqSettingsUpdate body)
    {
        using var response = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq/test", body, ContractsJson.WireOptions);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<RabbitMqTestResult>(text, ContractsJson.WireOptions)!;
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
