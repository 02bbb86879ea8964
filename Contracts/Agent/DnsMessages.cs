namespace ManagedServers.Contracts.Agent;

/// <summary>
/// What a DNS service should serve: the model the control plane owns. The agent renders it into knot.conf with its
/// own paths (<c>KnotConf.Render</c>), so one spec gives the same configuration on every host and runtime.
/// <see cref="Listen"/>: Knot listen entries <c>address@port</c> (default: <c>0.0.0.0@53</c> and <c>::@53</c>).
/// <see cref="Zones"/>: the zones served, each with the SOA serial it must answer with after the push.
/// <see cref="Statistics"/>: load mod-stats (per zone and server-wide counters); <see cref="Dnstap"/>: load mod-dnstap
/// towards the agent's unix socket (per-name hit counts). Both follow the DNS monitoring setting.
/// </summary>
public sealed record DnsConfigSpec(
    IReadOnlyList<string> Listen,
    IReadOnlyList<DnsZoneSpec> Zones,
    bool Statistics = true,
    bool Dnstap = true);

/// <summary>One zone in a <see cref="DnsConfigSpec"/>: its name (lower case, no trailing dot) and the SOA serial it must serve.</summary>
public sealed record DnsZoneSpec(string Name, long Serial);

/// <summary>
/// The content of one zone file to write, at <see cref="Serial"/>. The gzip-compressed RFC 1035 text comes either
/// inline (<see cref="GzipBase64"/>: small zones, and pull-mode agents) or streamed from the control plane over the
/// agent's mTLS connection (<see cref="Url"/>: <see cref="AgentApi.ZoneFileTemplate"/>, relative to the agent URL).
/// <see cref="Sha256"/> (hex, lower case) and <see cref="Size"/> are of the uncompressed text; the agent checks both.
/// </summary>
public sealed record DnsZoneFile(string Zone, long Serial, string Sha256, long Size, string? Url = null, string? GzipBase64 = null);

/// <summary>
/// <c>dns.apply</c>: one validated, atomic change of a DNS service. The agent:
/// <list type="number">
/// <item>writes the candidate (knot.conf rendered from <see cref="Config"/>, and the zone files of <see cref="Files"/>) beside
/// the live files and checks each zone file with <c>kzonecheck</c> (all of Knot's checks). A zone whose file knotd itself
/// would refuse to load (<c>knotc zone-check</c> with the configuration's semantic checks, off) is refused: it keeps its
/// live file and serial, or stays out of knot.conf when it is new, and the others are applied — unless
/// <see cref="Atomic"/>, when one refused zone refuses the whole change. What only Knot's optional checks report (a missing
/// glue record) is a warning (<see cref="DnsApplyOutput.Warnings"/>) and applies. A change that applies nothing is refused;
/// so is a <c>knotc conf-check</c> failure (nothing live changed);</item>
/// <item>switches atomically (renames), keeping the previous files;</item>
/// <item>reloads with blocking semantics (<c>knotc reload</c> for the configuration, <c>knotc -b zone-reload</c> for zones);</item>
/// <item>health-checks: every zone of <see cref="Config"/> answers SOA with its serial;</item>
/// <item>on any failure after the switch, puts the previous files back, reloads, and reports the failure with
/// <see cref="DnsApplyOutput.RolledBack"/> true.</item>
/// </list>
/// Zones no longer in <see cref="Config"/> are dropped from knot.conf (their files stay). <see cref="Version"/> is the
/// control plane's number of this configuration; the agent records the last version applied.
/// </summary>
public sealed record DnsApplyArgs(int Version, DnsConfigSpec Config, IReadOnlyList<DnsZoneFile> Files, bool Atomic = false);

/// <summary>A zone a <c>dns.apply</c> did not apply, and why (knotd's reason, with the line).</summary>
public sealed record DnsZoneRefusal(string Zone, string Reason);

/// <summary>A zone after <c>dns.apply</c>: the serial it answers with (null: it does not answer), and why not.</summary>
public sealed record DnsZoneState(string Zone, long? Serial, string? Error = null);

/// <summary>
/// Output of <c>dns.apply</c> (also sent as the result's output when it failed): the version now live, whether the
/// agent rolled back, the rendered knot.conf now live, each zone's serial as answered, and the steps taken; once it took
/// effect on a running service, the listen entries it answers on (each checked when they changed), and the DNS
/// service's status after it (null from agents before these fields).
/// <see cref="Refused"/>: the zones knotd would not load (not applied); <see cref="Warnings"/>: what Knot's optional checks
/// report about the zones applied, "ZONE: message".
/// </summary>
public sealed record DnsApplyOutput(
    int LiveVersion,
    bool RolledBack,
    string KnotConf,
    IReadOnlyList<DnsZoneState> Zones,
    IReadOnlyList<string> Steps,
    IReadOnlyList<string>? Listen = null,
    ServiceStatus? Service = null,
    IReadOnlyList<DnsZoneRefusal>? Refused = null,
    IReadOnlyList<string>? Warnings = null);
