using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ManagedServers.Grains.Dhcp;

namespace ManagedServers.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Benchmarks -- dhcp [SUBNETS] [RESERVATIONS]</c>: a DHCPv4 configuration of
/// SUBNETS /24 subnets (one pool each) and RESERVATIONS reservations spread over them, through the control plane's
/// import, review and render, then Kea's own <c>-t</c>, and <c>config-test</c> and <c>config-set</c> on a running
/// kea-dhcp4 (no interfaces), each timed once (wall clock).
/// </summary>
public static class DhcpBench
{
    public static async Task<int> RunAsync(int subnets, int reservations)
    {
        var dir = Directory.CreateTempSubdirectory("ms-dhcp-bench-").FullName;
        try
        {
            var document = Generate(subnets, reservations, Path.Combine(dir, "kea.sock"));
            Console.WriteLine($"configuration: {subnets:N0} subnets, {reservations:N0} reservations, {document.Length / 1024.0 / 1024.0:0.0} MiB");
            var watch = Stopwatch.StartNew();
            var (config, _) = KeaImport.Parse(document);
            Report("import (parse, model)", watch);
            var findings = DhcpReview.Review(config);
            Report($"review ({findings.Count} findings)", watch);
            var rendered = KeaRender.Render(config);
            Report($"render ({rendered.Length / 1024.0 / 1024.0:0.0} MiB)", watch);

            var file = Path.Combine(dir, "kea.json");
            await File.WriteAllTextAsync(file, rendered);
            var check = Process.Start(new ProcessStartInfo("kea-dhcp4", ["-t", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var checkOutput = check.StandardOutput.ReadToEndAsync();
            var checkErrors = check.StandardError.ReadToEndAsync();
            await check.WaitForExitAsync();
            await Task.WhenAll(checkOutput, checkErrors);
            Report($"kea-dhcp4 -t (exit {check.ExitCode})", watch);

            var environment = new Dictionary<string, string?> { ["KEA_PIDFILE_DIR"] = dir, ["KEA_LOCKFILE_DIR"] = dir };
            var empty = Path.Combine(dir, "empty.json");
            await File.WriteAllTextAsync(empty, Generate(0, 0, Path.Combine(dir, "kea.sock")));
            var start = new ProcessStartInfo("kea-dhcp4", ["-c", empty]) { RedirectStandardOutput = false, RedirectStandardError = false };
            foreach (var (k, v) in environment)
            {
                start.Environment[k] = v;
            }

            using var kea = Process.Start(start)!;
            try
            {
                for (var i = 0; i < 100 && !File.Exists(Path.Combine(dir, "kea.sock")); i++)
                {
                    await Task.Delay(50);
                }

                var arguments = JsonNode.Parse(rendered)!;
                watch.Restart();
                Console.WriteLine($"  config-test: {await SendAsync(Path.Combine(dir, "kea.sock"), "config-test", arguments)}");
                Report("Kea config-test (running kea-dhcp4)", watch);
                Console.WriteLine($"  config-set: {await SendAsync(Path.Combine(dir, "kea.sock"), "config-set", arguments)}");
                Report("Kea config-set (running kea-dhcp4)", watch);
            }
            finally
            {
                kea.Kill();
                await kea.WaitForExitAsync();
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Report(string what, Stopwatch watch)
    {
        Console.WriteLine($"{what,-45} {watch.Elapsed.TotalMilliseconds,10:N0} ms");
        watch.Restart();
    }

    private static string Generate(int subnets, int reservations, string socket)
    {
        var text = new StringBuilder();
        text.Append("{ \"Dhcp4\": { \"interfaces-config\": { \"interfaces\": [] }, ");
        text.Append("\"control-socket\": { \"socket-type\": \"unix\", \"socket-name\": \"").Append(socket).Append("\" }, ");
        text.Append("\"lease-database\": { \"type\": \"memfile\", \"persist\": false }, \"subnet4\": [");
        var perSubnet = subnets == 0 ? 0 : reservations / subnets;
        for (var s = 0; s < subnets; s++)
        {
            var net = $"10.{s / 256}.{s % 256}";
            text.Append(s == 0 ? string.Empty : ",").Append("{ \"id\": ").Append(s + 1).Append(", \"subnet\": \"").Append(net).Append(".0/24\"");
            text.Append(", \"pools\": [ { \"pool\": \"").Append(net).Append(".100 - ").Append(net).Append(".200\" } ], \"reservations\": [");
            for (var r = 0; r < perSubnet; r++)
            {
                text.Append(r == 0 ? string.Empty : ",").Append(System.Globalization.CultureInfo.InvariantCulture, $"{{ \"hw-address\": \"02:00:{s >> 8:x2}:{s & 255:x2}:00:{r:x2}\", \"ip-address\": \"{net}.{10 + r}\" }}");
            }

            text.Append("] }");
        }

        return text.Append("] } }").ToString();
    }

    private static async Task<string> SendAsync(string socketPath, string command, JsonNode arguments)
    {
        var answer = await ManagedServers.Agent.Engines.KeaControl.SendAsync(socketPath, command, arguments, TimeSpan.FromMinutes(5), CancellationToken.None);
        return $"result {answer.Result}: {answer.Message}";
    }
}
