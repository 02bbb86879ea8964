using System.Text.Json;

namespace ManagedServers.Cli.Tests;

public sealed class SettingsCommandTests() : FakeApiTests(useApi: true)
{
    [Fact]
    public async Task Show_never_prints_a_password()
    {
        Api.RabbitMq = new("mq.example.org", 5672, "/", "cp", true, false, "http://mq.example.org:15672/", "amqp");

        var run = await Cli.RunAsync("settings", "rabbitmq", "show");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("mq.example.org", run.Stdout);
        Assert.Contains("(set)", run.Stdout);
        Assert.Contains("amqp", run.Stdout);

        var json = await Cli.RunAsync("settings", "rabbitmq", "show", "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.True(doc.RootElement.GetProperty("password_set").GetBoolean());
        Assert.Equal("mq.example.org", doc.RootElement.GetProperty("host").GetString());
    }

    [Fact]
    public async Task Set_reads_the_password_from_stdin_and_sends_only_given_fields()
    {
        Cli.Stdin = "from-stdin\n";
        var run = await Cli.RunAsync("settings", "rabbitmq", "set", "--host", "mq.example.org", "--user", "cp", "--password-stdin", "--tls", "--default-communication", "amqp");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("from-stdin", Api.RabbitMqPassword);
        Assert.DoesNotContain("from-stdin", run.Stdout);
        using var body = JsonDocument.Parse(Assert.Single(Api.RabbitMqBodies));
        Assert.Equal("mq.example.org", body.RootElement.GetProperty("host").GetString());
        Assert.True(body.RootElement.GetProperty("tls").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("port").ValueKind);
        Assert.Contains("Saved", run.Stdout);
        Assert.Equal("amqp", Api.RabbitMq.DefaultCommunication);
    }

    [Fact]
    public async Task Set_with_empty_stdin_or_nothing_to_change_is_a_usage_error()
    {
        var empty = await Cli.RunAsync("settings", "rabbitmq", "set", "--password-stdin");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("stdin is empty", empty.ErrorLine);

        var nothing = await Cli.RunAsync("settings", "rabbitmq", "set");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Empty(Api.RabbitMqBodies);
    }

    [Fact]
    public async Task Set_shows_field_errors()
    {
        var run = await Cli.RunAsync("settings", "rabbitmq", "set", "--port", "70000");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("port", run.ErrorLine);
    }

    [Fact]
    public async Task Test_ok_prints_one_line()
    {
        Api.RabbitMq = new("mq.example.org", 5672, "/", "cp", true, false, "", "push");
        Api.RabbitMqPassword = FakeApi.BrokerPassword;

        var run = await Cli.RunAsync("settings", "rabbitmq", "test");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("ok: RabbitMQ 3.10.8 at mq.example.org:5672 vhost /", run.Stdout.Trim());
        Assert.Equal(string.Empty, Assert.Single(Api.RabbitMqBodies));
    }

    [Fact]
    public async Task Test_failure_names_the_reason_and_exits_1()
    {
        Api.RabbitMq = new("mq.example.org", 5672, "/", "cp", true, false, "", "push");
        Cli.Stdin = "wrong\n";

        var run = await Cli.RunAsync("settings", "rabbitmq", "test", "--password-stdin");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("failed (authentication): RabbitMQ at mq.example.org:5672 refused", run.ErrorLine, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stdout.Trim());

        var json = await Cli.RunAsync("settings", "rabbitmq", "test", "-o", "json", "--password-stdin");
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("authentication", doc.RootElement.GetProperty("reason").GetString());
    }
}
