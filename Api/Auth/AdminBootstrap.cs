using ManagedServers.Grains.Interfaces.Identity;

namespace ManagedServers.Api.Auth;

/// <summary>
/// First start: creates the admin user. The password comes from MANAGEDSERVERS_ADMIN_PASSWORD,
/// or is generated and printed once on standard output (never through the logger).
/// </summary>
public static class AdminBootstrap
{
    public const string PasswordVariable = "MANAGEDSERVERS_ADMIN_PASSWORD";

    public static async Task EnsureAdminAsync(IGrainFactory grains, TextWriter console)
    {
        var admin = grains.GetGrain<IUserGrain>("admin");
        if (await admin.GetAsync() is not null)
        {
            return;
        }

        var fromEnv = Environment.GetEnvironmentVariable(PasswordVariable);
        var password = string.IsNullOrEmpty(fromEnv) ? Secrets.RandomPassword() : fromEnv;
        if (await admin.EnsureAsync(Secrets.HashPassword(password), [Groups.Admins]))
        {
            await grains.GetGrain<IUserDirectoryGrain>("people").AddAsync("admin");
            if (string.IsNullOrEmpty(fromEnv))
            {
                await console.WriteLineAsync($"ManagedServers: created user 'admin' with password: {password}  (shown once; set {PasswordVariable} to choose it)");
            }
        }
    }
}
