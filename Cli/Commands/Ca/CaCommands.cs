using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Ca;

/// <summary>msctl ca show.</summary>
internal sealed class ShowCaCommand(CliHost host) : ApiCommand<OutputSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, OutputSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.GetCaAsync(cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => CaOutput.Write(Host, result.Value));
        return ExitCodes.Ok;
    }
}

internal sealed class RotateCaSettings : OutputSettings
{
    [CommandOption("--finish")]
    [Description("Finish the rotation under way: the old CA is no longer trusted")]
    public bool Finish { get; init; }

    [CommandOption("--force")]
    [Description("With --finish: finish even though some agents still hold a certificate of the old CA (they must enrol again)")]
    public bool Force { get; init; }
}

/// <summary>msctl ca rotate [--finish [--force]].</summary>
internal sealed class RotateCaCommand(CliHost host) : ApiCommand<RotateCaSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, RotateCaSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Force && !settings.Finish)
        {
            throw new CliUsageException("--force goes with --finish");
        }

        var result = settings.Finish
            ? await api.FinishCaRotationAsync(settings.Force, cancellationToken)
            : await api.RotateCaAsync(cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => CaOutput.Write(Host, result.Value));
        return ExitCodes.Ok;
    }
}

internal static class CaOutput
{
    public static void Write(CliHost host, CaView ca)
    {
        var now = host.Time.GetUtcNow();
        var table = Tables.Create("CA", "Subject", "SHA-256", "Valid until");
        table.AddRow(OutputFormat.Cell("current"), OutputFormat.Cell(ca.Current.Subject), OutputFormat.Cell(ca.Current.Sha256Fingerprint[..16] + "…"), OutputFormat.Cell(OutputFormat.Timestamp(ca.Current.NotAfter, now)));
        if (ca.Previous is { } previous)
        {
            table.AddRow(OutputFormat.Cell("previous (still trusted)"), OutputFormat.Cell(previous.Subject), OutputFormat.Cell(previous.Sha256Fingerprint[..16] + "…"), OutputFormat.Cell(OutputFormat.Timestamp(previous.NotAfter, now)));
        }

        Tables.Write(host, table);
        host.Console.MarkupLineInterpolated($"Agents on the current CA: {ca.ServersOnCurrent}; on the previous CA: {ca.ServersOnPrevious}; never enrolled: {ca.ServersWithoutCertificate}.");
        if (ca.NotRenewed.Length > 0 && ca.Previous is not null)
        {
            host.Console.MarkupLineInterpolated($"Not renewed yet: {string.Join(", ", ca.NotRenewed)}");
        }

        host.Console.MarkupLineInterpolated($"{ca.Message}.");
    }
}
