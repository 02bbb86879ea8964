using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.AspNetCore.Authorization;

namespace ManagedServers.Api.Auth;

/// <summary>
/// What a person may do, named by permission: endpoints ask for a permission (<c>RequireAuthorization(Permissions.DnsPush)</c>),
/// never for a role, and <see cref="Roles"/> maps each permission to the built-in groups. Role-based access later changes
/// this map (or reads it from storage), not the endpoints. Each permission is an authorization policy of the same name
/// over the people schemes (Bearer tokens; Basic only where a policy says so).
/// </summary>
public static class Permissions
{
    public const string ServersRead = "servers.read";
    public const string ServersWrite = "servers.write";
    public const string ServicesManage = "services.manage";
    public const string DnsPush = "dns.push";
    public const string DhcpWrite = "dhcp.write";
    public const string DhcpPush = "dhcp.push";
    public const string ZonesRead = "zones.read";
    public const string ZonesWrite = "zones.write";
    public const string JobsRead = "jobs.read";
    public const string MonitoringRead = "monitoring.read";
    public const string SettingsRead = "settings.read";
    public const string SettingsWrite = "settings.write";
    public const string CertificatesRead = "certificates.read";
    public const string CertificatesManage = "certificates.manage";
    public const string TokensOwn = "tokens.own";
    public const string UsersManage = "users.manage";

    private static readonly string[] Everyone = [Groups.Admins, Groups.Viewers];
    private static readonly string[] AdminsOnly = [Groups.Admins];

    /// <summary>Today's map: viewers read everything but users; admins do everything.</summary>
    public static IReadOnlyDictionary<string, string[]> Roles { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [ServersRead] = Everyone,
        [ServersWrite] = AdminsOnly,
        [ServicesManage] = AdminsOnly,
        [DnsPush] = AdminsOnly,
        [DhcpWrite] = AdminsOnly,
        [DhcpPush] = AdminsOnly,
        [ZonesRead] = Everyone,
        [ZonesWrite] = AdminsOnly,
        [JobsRead] = Everyone,
        [MonitoringRead] = Everyone,
        [SettingsRead] = Everyone,
        [SettingsWrite] = AdminsOnly,
        [CertificatesRead] = Everyone,
        [CertificatesManage] = AdminsOnly,
        [TokensOwn] = Everyone,
        [UsersManage] = AdminsOnly,
    };

    /// <summary>Registers one policy per permission (Bearer tokens, the roles of <see cref="Roles"/>).</summary>
    public static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder builder)
    {
        foreach (var (permission, roles) in Roles)
        {
            builder.AddPolicy(permission, p => p.AddAuthenticationSchemes(Infrastructure.AuthNames.BearerScheme).RequireRole(roles));
        }

        return builder;
    }
}
