using System.Diagnostics;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>The real Kea 2.2 on this machine (Debian's kea-dhcp4-server and kea-dhcp6-server; scripts/test.sh installs them).</summary>
internal static class Kea
{
    public static string Daemon(DhcpFamily family) => family == DhcpFamily.V4 ? "/usr/sbin/kea-dhcp4" : "/usr/sbin/kea-dhcp6";

    /// <summary>Kea's verdict on a configuration (<c>kea-dhcpN -t</c>: parsed and checked as the server would, nothing opened).</summary>
    public static (bool Accepted, string Output) Test(DhcpFamily family, string text)
    {
        var daemon = Daemon(family);
        Assert.True(File.Exists(daemon), $"{daemon} is missing: install kea-dhcp4-server and kea-dhcp6-server (scripts/test.sh does)");
        var file = Path.Combine(Path.GetTempPath(), $"ms-kea-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, text);
        try
        {
            using var process = Process.Start(new ProcessStartInfo(daemon, ["-t", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill();
                Assert.Fail($"{daemon} -t did not finish");
            }

            return (process.ExitCode == 0, output.Result + errors.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
