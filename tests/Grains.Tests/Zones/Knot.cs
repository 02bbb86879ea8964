using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ManagedServers.Grains.Tests.Zones;

/// <summary>
/// The real Knot 3.2 on this machine (Debian's knot, knot-dnsutils, knot-dnssecutils; scripts/test.sh installs them):
/// knotd's own load rule (<c>knotc zone-check</c> with the default <c>semantic-checks: off</c>, as the agent's knot.conf
/// has it), <c>kzonecheck</c> (all optional checks), and what a running knotd serves (<c>kdig AXFR</c>).
/// </summary>
internal static class Knot
{
    public const string Knotc = "/usr/sbin/knotc";
    public const string Knotd = "/usr/sbin/knotd";
    public const string Kzonecheck = "/usr/bin/kzonecheck";
    public const string Kdig = "/usr/bin/kdig";

    /// <summary>Fails the test (never skips it) when Knot is missing: the agreement must be tested, not assumed.</summary>
    public static void Require()
    {
        foreach (var tool in new[] { Knotc, Knotd, Kzonecheck, Kdig })
        {
            Assert.True(File.Exists(tool), $"{tool} is missing: install knot, knot-dnsutils and knot-dnssecutils (scripts/test.sh does)");
        }
    }

    /// <summary>
    /// knotd's verdict on each (zone, text): whether it loads the zone file (<c>knotc zone-check</c>, semantic checks off
    /// as in the agent's knot.conf), and its messages about that zone. One knotc run checks them all.
    /// </summary>
    public static Dictionary<string, (bool Loads, string Messages)> ZoneCheck(IReadOnlyList<(string Zone, string Text)> zones)
    {
        Require();
        var dir = Directory.CreateTempSubdirectory("ms-knot-check-");
        try
        {
            var conf = new StringBuilder($"server:\n    rundir: \"{dir.FullName}\"\ndatabase:\n    storage: \"{dir.FullName}\"\ntemplate:\n  - id: default\n    storage: \"{dir.FullName}\"\nzone:\n");
            for (var i = 0; i < zones.Count; i++)
            {
                var file = Path.Combine(dir.FullName, $"z{i}.zone");
                File.WriteAllText(file, zones[i].Text);
                conf.Append(CultureInfo.InvariantCulture, $"  - domain: \"{zones[i].Zone}\"\n    file: \"{file}\"\n");
            }

            var confPath = Path.Combine(dir.FullName, "knot.conf");
            File.WriteAllText(confPath, conf.ToString());
            var (_, output) = Run(Knotc, ["-c", confPath, "zone-check"]);
            var result = new Dictionary<string, (bool, string)>(StringComparer.Ordinal);
            foreach (var (zone, _) in zones)
            {
                var tag = $"[{(zone == "." ? "." : zone + ".")}]";
                var lines = output.Split('\n').Where(l => l.Contains(tag, StringComparison.Ordinal)).ToList();
                result[zone] = (!lines.Any(l => l.Contains("failed to check zone file", StringComparison.Ordinal)), string.Join("\n", lines));
            }

            return result;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary><c>kzonecheck -o ZONE [-d off]</c>: exit code and output (all of Knot's optional checks).</summary>
    public static (int ExitCode, string Output) KzoneCheck(string zone, string text, bool dnssec)
    {
        Require();
        var path = Path.Combine(Path.GetTempPath(), $"ms-kzonecheck-{Guid.NewGuid():N}.zone");
        File.WriteAllText(path, text);
        try
        {
            return Run(Kzonecheck, ["-v", "-o", zone, "-d", dnssec ? "on" : "off", path]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// What a knotd serving <paramref name="text"/> as <paramref name="zone"/> answers to AXFR (<c>kdig</c>, one record
    /// per line, sorted, the closing SOA left out); <paramref name="generic"/>: RDATA in RFC 3597 form. The knotd is
    /// stopped before this returns.
    /// </summary>
    public static async Task<List<string>> AxfrAsync(string zone, string text, bool generic = false)
    {
        Require();
        var dir = Directory.CreateTempSubdirectory("ms-knotd-");
        Process? knotd = null;
        try
        {
            var port = FreePort();
            var file = Path.Combine(dir.FullName, "zone.zone");
            await File.WriteAllTextAsync(file, text);
            var conf = Path.Combine(dir.FullName, "knot.conf");
            await File.WriteAllTextAsync(conf, $"""
                server:
                    rundir: "{dir.FullName}"
                    listen: 127.0.0.1@{port}
                database:
                    storage: "{dir.FullName}"
                acl:
                  - id: transfer
                    address: 127.0.0.1
                    action: transfer
                template:
                  - id: default
                    storage: "{dir.FullName}"
                    zonefile-sync: -1
                    zonefile-load: whole
                    journal-content: none
                zone:
                  - domain: "{zone}"
                    file: "{file}"
                    acl: transfer

                """);
            knotd = Process.Start(new ProcessStartInfo(Knotd, ["-c", conf]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var log = new StringBuilder();
            knotd.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
            knotd.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
            knotd.BeginOutputReadLine();
            knotd.BeginErrorReadLine();
            var args = new List<string> { "@127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "AXFR", zone, "+noall", "+answer" };
            if (generic)
            {
                args.Add("+generic");
            }

            for (var attempt = 0; ; attempt++)
            {
                var (code, output) = Run(Kdig, args);
                var lines = output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith(';')).ToList();
                if (code == 0 && lines.Count > 0)
                {
                    // The SOA opens and closes an AXFR: keep one.
                    lines.RemoveAt(lines.Count - 1);
                    return [.. lines.Select(l => string.Join(' ', l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))).Order(StringComparer.Ordinal)];
                }

                if (attempt > 50 || knotd.HasExited || (attempt > 5 && output.Contains("SERVFAIL", StringComparison.Ordinal)))
                {
                    lock (log)
                    {
                        Assert.Fail($"knotd did not serve {zone}: kdig: {output}\nknotd: {log}");
                    }
                }

                await Task.Delay(100);
            }
        }
        finally
        {
            if (knotd is { HasExited: false })
            {
                knotd.Kill();
                await knotd.WaitForExitAsync();
            }

            knotd?.Dispose();
            dir.Delete(recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string file, IReadOnlyList<string> args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
