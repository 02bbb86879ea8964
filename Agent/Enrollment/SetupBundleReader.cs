using System.Text.Json;
using ManagedServers.Agent.Http;
using ManagedServers.Agent.Security;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Enrollment;

/// <summary>A setup bundle checked for use: parsed agent URL and CA trust.</summary>
internal sealed record ValidatedBundle(SetupBundle Bundle, Uri AgentUri, CaTrust Trust);

/// <summary>Reads the setup bundle file with messages an operator can act on.</summary>
internal static class SetupBundleReader
{
    public const int SupportedFormatVersion = 1;

    public static ValidatedBundle ReadFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new AgentException($"bundle file '{path}' not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new AgentException($"bundle file '{path}' not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"cannot read bundle file '{path}': {e.Message}", e);
        }

        return Parse(bytes, $"bundle '{path}'");
    }

    public static ValidatedBundle Parse(ReadOnlySpan<byte> json, string source)
    {
        if (json.Trim((byte)' ').IsEmpty)
        {
            throw new AgentException($"{source} is empty");
        }

        SetupBundle? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize(json, ContractsJson.Default.SetupBundle);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, position {e.BytePositionInLine + 1})" : string.Empty;
            throw new AgentException($"{source} is not a valid setup bundle: malformed JSON{where}");
        }

        if (bundle is null)
        {
            throw new AgentException($"{source} is not a valid setup bundle: expected a JSON object");
        }

        if (bundle.FormatVersion != SupportedFormatVersion)
        {
            throw new AgentException(bundle.FormatVersion == 0
                ? $"{source}: missing 'format_version'"
                : $"{source}: format_version {bundle.FormatVersion} is not supported (this agent reads version {SupportedFormatVersion})");
        }

        Require(bundle.ServerId, "server_id", source);
        Require(bundle.EnrollmentToken, "enrollment_token", source);
        Require(bundle.CaCertificatePem, "ca_certificate_pem", source);
        var agentUri = AgentEndpoints.ParseAgentUrl(bundle.AgentUrl, source);
        var trust = CaTrust.FromPem(bundle.CaCertificatePem, $"{source}: ca_certificate_pem");
        bundle = bundle with { ServerName = string.IsNullOrWhiteSpace(bundle.ServerName) ? bundle.ServerId : bundle.ServerName };
        return new ValidatedBundle(bundle, agentUri, trust);
    }

    private static void Require(string? value, string name, string source)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new AgentException($"{source}: missing '{name}'");
        }
    }
}
