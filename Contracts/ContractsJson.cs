using System.Text.Json;
using System.Text.Json.Serialization;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Contracts;

/// <summary>
/// Source-generated JSON metadata for every wire contract: snake_case names, enums as strings.
/// The agent is trimmed, so it serializes through this context only.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SetupBundle))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(RenewRequest))]
[JsonSerializable(typeof(CertificateResponse))]
[JsonSerializable(typeof(AmqpCredentials))]
[JsonSerializable(typeof(Heartbeat))]
[JsonSerializable(typeof(HeartbeatAck))]
[JsonSerializable(typeof(AgentCommand))]
[JsonSerializable(typeof(AgentCommand[]))]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(PingOutput))]
[JsonSerializable(typeof(MetricsBatch))]
[JsonSerializable(typeof(SystemSample))]
[JsonSerializable(typeof(DnsMetricsBatch))]
[JsonSerializable(typeof(DhcpMetricsBatch))]
[JsonSerializable(typeof(AgentMonitoringConfig))]
[JsonSerializable(typeof(ConfigureArgs))]
[JsonSerializable(typeof(ServiceInstallArgs))]
[JsonSerializable(typeof(ServiceActionArgs))]
[JsonSerializable(typeof(ServiceStatus))]
[JsonSerializable(typeof(ServiceCommandOutput))]
[JsonSerializable(typeof(CommandProgress))]
[JsonSerializable(typeof(DiagnosticsReport))]
[JsonSerializable(typeof(DebugBundleArgs))]
[JsonSerializable(typeof(DebugBundleOutput))]
[JsonSerializable(typeof(DnsApplyArgs))]
[JsonSerializable(typeof(DhcpApplyArgs))]
[JsonSerializable(typeof(DhcpApplyOutput))]
[JsonSerializable(typeof(DhcpLeasesArgs))]
[JsonSerializable(typeof(DhcpLeasesOutput))]
[JsonSerializable(typeof(DhcpLeaseDeleteArgs))]
[JsonSerializable(typeof(DhcpImportView))]
[JsonSerializable(typeof(DhcpFindingView[]))]
[JsonSerializable(typeof(DhcpSubnetRequest))]
[JsonSerializable(typeof(DhcpSubnetView))]
[JsonSerializable(typeof(ItemsOf<DhcpSubnetView>))]
[JsonSerializable(typeof(DhcpPoolRequest))]
[JsonSerializable(typeof(DhcpReservationRequest))]
[JsonSerializable(typeof(DhcpOptionsRequest))]
[JsonSerializable(typeof(DhcpOptionData[]))]
[JsonSerializable(typeof(DhcpLeasesView))]
[JsonSerializable(typeof(DhcpUtilisationView))]
[JsonSerializable(typeof(DhcpHaRequest))]
[JsonSerializable(typeof(ServerDnsView))]
[JsonSerializable(typeof(ConfigVersionView[]))]
[JsonSerializable(typeof(ConfigVersionDetailView))]
[JsonSerializable(typeof(ConfigDiffView))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(DnsApplyOutput))]
[JsonSerializable(typeof(ServerView))]
[JsonSerializable(typeof(PageOf<ServerView>))]
[JsonSerializable(typeof(CreateServerRequest))]
[JsonSerializable(typeof(UpdateServerRequest))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenView[]))]
[JsonSerializable(typeof(HeartbeatView[]))]
[JsonSerializable(typeof(PingResult))]
[JsonSerializable(typeof(ServerEventView[]))]
[JsonSerializable(typeof(CertificateRevocationView))]
[JsonSerializable(typeof(CaView))]
[JsonSerializable(typeof(SendCommandRequest))]
[JsonSerializable(typeof(CommandView))]
[JsonSerializable(typeof(ServiceView[]))]
[JsonSerializable(typeof(AddServiceRequest))]
[JsonSerializable(typeof(JobOptionsRequest))]
[JsonSerializable(typeof(PushRequest))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(PageOf<JobView>))]
[JsonSerializable(typeof(JobEventView))]
[JsonSerializable(typeof(MonitoringSettingsView))]
[JsonSerializable(typeof(MonitoringSettingsUpdate))]
[JsonSerializable(typeof(RabbitMqSettingsView))]
[JsonSerializable(typeof(RabbitMqSettingsUpdate))]
[JsonSerializable(typeof(RabbitMqTestResult))]
[JsonSerializable(typeof(ControlPlaneIps))]
[JsonSerializable(typeof(PrometheusTargetGroup[]))]
[JsonSerializable(typeof(RawSamplesView))]
[JsonSerializable(typeof(AggregateSamplesView))]
[JsonSerializable(typeof(DnsRpsView))]
[JsonSerializable(typeof(DnsTopView))]
[JsonSerializable(typeof(UserView[]))]
[JsonSerializable(typeof(Dictionary<string, string?>))]
[JsonSerializable(typeof(CreateZoneRequest))]
[JsonSerializable(typeof(ZoneFileRequest))]
[JsonSerializable(typeof(ZoneView))]
[JsonSerializable(typeof(ZoneImportView))]
[JsonSerializable(typeof(PageOf<ZoneView>))]
[JsonSerializable(typeof(ZoneRecordRequest))]
[JsonSerializable(typeof(ZoneRecordView))]
[JsonSerializable(typeof(PageOf<ZoneRecordView>))]
[JsonSerializable(typeof(ZoneRecordChangeView))]
[JsonSerializable(typeof(ZoneSerialView))]
public sealed partial class ContractsJson : JsonSerializerContext
{
    /// <summary>Options matching the wire format (snake_case), for code outside the agent.</summary>
    public static JsonSerializerOptions WireOptions => Default.Options;

    /// <summary>An enum value as the wire writes it: snake_case (<c>LastHeartbeat</c> → <c>last_heartbeat</c>).</summary>
    public static string WireName<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
