using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Settings;

/// <summary>Options of <c>settings rabbitmq set</c> and <c>test</c>: each one left out keeps the stored value.</summary>
internal class RabbitMqOptions : OutputSettings
{
    [CommandOption("--host <HOST>")]
    [Description("RabbitMQ host name or IP address")]
    public string? Host { get; init; }

    [CommandOption("--port <PORT>")]
    [Description("AMQP port (5672, or 5671 with TLS)")]
    public int? Port { get; init; }

    [CommandOption("--vhost <VHOST>")]
    [Description("Virtual host (default /)")]
    public string? VirtualHost { get; init; }

    [CommandOption("--user <USER>")]
    [Description("User the control plane connects as (needs the administrator tag to create agent users)")]
    public string? User { get; init; }

    [CommandOption("--password-stdin")]
    [Description("Read the password from the first line of stdin (it is never taken on the command line)")]
    public bool PasswordStdin { get; init; }

    [CommandOption("--tls")]
    [Description("Connect with TLS")]
    public bool Tls { get; init; }

    [CommandOption("--no-tls")]
    [Description("Connect without TLS")]
    public bool NoTls { get; init; }

    [CommandOption("--management-url <URL>")]
    [Description("Management API base URL (default http://HOST:15672/; \"\" resets to the default)")]
    public string? ManagementUrl { get; init; }

    [CommandOption("--default-communication <MODE>")]
    [Description("Transport of servers added without --communication: push, pull or amqp")]
    public string? DefaultCommunication { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : Tls && NoTls ? ValidationResult.Error("use either --tls or --no-tls")
        : ValidationResult.Success();

    /// <summary>The update these options describe; null when none was given.</summary>
    public RabbitMqSettingsUpdate? ToUpdate(CliHost host)
    {
        string? password = null;
        if (PasswordStdin)
        {
            password = host.In.ReadLine()?.TrimEnd('\r', '\n');
            if (string.IsNullOrEmpty(password))
            {
                throw new CliUsageException("--password-stdin: stdin is empty; pipe the password in, e.g. 'msctl settings rabbitmq set --password-stdin < file'");
            }
        }

        var update = new RabbitMqSettingsUpdate(Host, Port, VirtualHost, User, password, Tls ? true : NoTls ? false : null, ManagementUrl, DefaultCommunication);
        return update == new RabbitMqSettingsUpdate() ? null : update;
    }
}

/// <summary>Renders RabbitMQ settings as a grid.</summary>
internal static class RabbitMqView
{
    public static void Render(CliHost host, RabbitMqSettingsView s)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string? value) => grid.AddRow(new Text(label, new Style(Color.Grey)), OutputFormat.Cell(value));

        Row("Host", s.Host);
        Row("Port", s.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("Virtual host", s.VirtualHost);
        Row("User", s.User);
        Row("Password", s.PasswordSet ? "(set)" : "(not set)");
        Row("TLS", s.Tls ? "yes" : "no");
        Row("Management URL", s.ManagementUrl);
        Row("Default communication", s.DefaultCommunication);
        host.Console.Write(grid);
    }
}

/// <summary>msctl settings rabbitmq show.</summary>
internal sealed class ShowRabbitMqCommand(CliHost host) : ApiCommand<OutputSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, OutputSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.GetRabbitMqSettingsAsync(cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => RabbitMqView.Render(Host, result.Value));
        return ExitCodes.Ok;
    }
}

/// <summary>msctl settings rabbitmq set.</summary>
internal sealed class SetRabbitMqCommand(CliHost host) : ApiCommand<RabbitMqOptions>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, RabbitMqOptions settings, CancellationToken cancellationToken)
    {
        var update = settings.ToUpdate(Host) ?? throw new CliUsageException("nothing to change: give at least one option (see --help)");
        var result = await api.PutRabbitMqSettingsAsync(update, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            Host.Console.MarkupLine("[green]Saved[/] the RabbitMQ settings. Check them with 'msctl settings rabbitmq test'.");
            RabbitMqView.Render(Host, result.Value);
        });
        return ExitCodes.Ok;
    }
}

/// <summary>msctl settings rabbitmq test: one line, exit 1 on failure.</summary>
internal sealed class TestRabbitMqCommand(CliHost host) : ApiCommand<RabbitMqOptions>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, RabbitMqOptions settings, CancellationToken cancellationToken)
    {
        var result = await api.TestRabbitMqAsync(settings.ToUpdate(Host), cancellationToken);
        var t = result.Value;
        if (settings.Output == OutputMode.Json)
        {
            OutputFormat.WriteJson(Host, result.Json);
        }
        else if (t.Ok)
        {
            var address = (t.Host.Contains(':', StringComparison.Ordinal) ? $"[{t.Host}]" : t.Host) + ":" + t.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Host.Out.WriteLine($"ok: RabbitMQ {t.ServerVersion ?? "(unknown version)"} at {address} vhost {t.VirtualHost}");
            Host.Out.Flush();
        }

        if (!t.Ok)
        {
            Host.Error.WriteLine($"failed ({t.Reason}): {ApiException.OneLine(t.Detail)}");
            Host.Error.Flush();
            return ExitCodes.Error;
        }

        return ExitCodes.Ok;
    }
}
