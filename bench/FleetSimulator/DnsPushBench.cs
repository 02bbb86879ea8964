using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Api;

/// <summary>
/// Zone pushes end to end against a running control plane, with real agent processes (exec runtime: the host's knotd):
/// (a) a zone of N records imported through the API, then pushed to one server until its last record answers;
/// (b) a one-record change pushed to S servers at once, R rounds: per server, the time from the change until that
/// server answers the new address; p50/p99 over all. Started by bench/dns-push.sh.
/// </summary>
internal static class DnsPushBench
{
    public static async Task RunAsync(HttpClient api, string agentDll, int servers, int records, int rounds, string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), prefix);
        Directory.CreateDirectory(dir);
        var agents = new List<Process>();
        try
        {
            Console.WriteLine($"dns push bench: {servers} servers (agents on the exec runtime), a {records:N0}-record zone, {rounds} rounds of a 1-record change");
            var clock = Stopwatch.StartNew();
            var fleet = await Task.WhenAll(Enumerable.Range(0, servers).Select(i => StartServerAsync(api, agentDll, dir, $"{prefix}-{i:D2}", agents)));
            Console.WriteLine($"{servers} agents enrolled, knotd installed on each: {clock.Elapsed.TotalSeconds:F1} s");

            // (a) Import a large zone, then push it to the first server until its last record answers.
            var big = $"big.{prefix}.test";
            var text = BigZone(big, records);
            clock.Restart();
            await SendAsync(api, HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = big, ["zone_file"] = text });
            var import = clock.Elapsed;
            await SendAsync(api, HttpMethod.Put, $"/api/v1/servers/{fleet[0].Id}/zones", new JsonArray(big));
            clock.Restart();
            var push = await RunJobAsync(api, $"/api/v1/servers/{fleet[0].Id}/push-zones");
            var jobDone = clock.Elapsed;
            await UntilAsync(() => AnswersAsync(fleet[0].Port, $"h{records - 4}.{big}", Address(records - 4)));
            var answering = clock.Elapsed;
            Console.WriteLine($"(a) {records:N0} records ({Encoding.UTF8.GetByteCount(text) / 1048576.0:F1} MiB): import {import.TotalSeconds:F2} s; push job {jobDone.TotalSeconds:F2} s ({push}); answering {answering.TotalSeconds:F2} s; import + push {(import + answering).TotalSeconds:F2} s");

            // (b) One small zone on every server; then rounds of a one-record change pushed to all at once.
            var small = $"small.{prefix}.test";
            await SendAsync(api, HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = small, ["zone_file"] = SmallZone(small, "10.9.0.0") });
            await Task.WhenAll(fleet.Select(s => SendAsync(api, HttpMethod.Put, $"/api/v1/servers/{s.Id}/zones", new JsonArray(small))));
            await Task.WhenAll(fleet.Select(s => RunJobAsync(api, $"/api/v1/servers/{s.Id}/push-zones")));
            var latencies = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var address = $"10.9.0.{round}";
                var started = Stopwatch.StartNew();
                await SendAsync(api, HttpMethod.Put, $"/api/v1/zones/{small}/file", new JsonObject { ["zone_file"] = SmallZone(small, address) });
                var times = await Task.WhenAll(fleet.Select(async s =>
                {
                    // Until the server answers the new address (the end that matters), then the job must have succeeded.
                    var job = await SendAsync(api, HttpMethod.Post, $"/api/v1/servers/{s.Id}/push-zones", null);
                    await UntilAsync(() => AnswersAsync(s.Port, "www." + small, address));
                    var answered = started.Elapsed.TotalMilliseconds;
                    await WaitJobAsync(api, job);
                    return answered;
                }));
                latencies.AddRange(times);
                Console.WriteLine($"    round {round}: all {servers} answer after {times.Max():F0} ms");
            }

            latencies.Sort();
            Console.WriteLine($"(b) 1-record change to {servers} servers, {latencies.Count} samples: p50 {Percentile(latencies, 0.50):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms");
        }
        finally
        {
            foreach (var agent in agents)
            {
                try
                {
                    agent.Kill(entireProcessTree: false);
                    agent.WaitForExit(10_000);
                }
                catch (InvalidOperationException)
                {
                }
            }

            foreach (var pid in KnotdOf(dir))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            Directory.Delete(dir, true);
        }
    }

    private sealed record BenchServer(string Id, int Port);

    private static async Task<BenchServer> StartServerAsync(HttpClient api, string agentDll, string dir, string name, List<Process> agents)
    {
        var wire = ContractsJson.WireOptions;
        using var created = await api.PostAsJsonAsync("/api/v1/servers", new CreateServerRequest(name, "dns", "127.0.0.1", "Debian 12", Runtime: "exec"), wire);
        created.EnsureSuccessStatusCode();
        var server = (await created.Content.ReadFromJsonAsync<ServerView>(wire))!;
        var bundle = Path.Combine(dir, name + ".bundle.json");
        await File.WriteAllBytesAsync(bundle, await api.GetByteArrayAsync($"/api/v1/servers/{server.Id}/setup-bundle"));
        var state = Path.Combine(dir, name);
        using (var enroll = Process.Start(Start(agentDll, "enroll", "--bundle", bundle, "--state-dir", state))!)
        {
            await enroll.WaitForExitAsync();
            if (enroll.ExitCode != 0)
            {
                throw new InvalidOperationException($"enrol of {name} failed: {await enroll.StandardError.ReadToEndAsync()}");
            }
        }

        var agent = Process.Start(Start(agentDll, "run", "--state-dir", state))!;
        agent.OutputDataReceived += (_, _) => { }; // drained, not shown: the agent logs to STATE_DIR/logs/agent.log too
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        lock (agents)
        {
            agents.Add(agent);
        }

        await UntilAsync(async () => (await api.GetFromJsonAsync<ServerView>($"/api/v1/servers/{server.Id}", wire))!.State == "running");
        var port = FreePort();
        await RunJobAsync(api, $"/api/v1/servers/{server.Id}/services", new JsonObject { ["kind"] = "dns", ["listen"] = new JsonArray($"127.0.0.1@{port}") });
        return new BenchServer(server.Id, port);
    }

    /// <summary>Starts a job and waits for it; throws when it failed. Returns how long the job took by its own clock.</summary>
    private static async Task<string> RunJobAsync(HttpClient api, string path, JsonNode? body = null) =>
        await WaitJobAsync(api, await SendAsync(api, HttpMethod.Post, path, body));

    private static async Task<string> WaitJobAsync(HttpClient api, JsonElement job)
    {
        var id = job.GetProperty("job_id").GetString();
        var version = job.GetProperty("version").GetInt64();
        while (true)
        {
            var current = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}?wait_seconds=20&version={version}"))!;
            version = current.GetProperty("version").GetInt64();
            switch (current.GetProperty("state").GetString())
            {
                case "succeeded":
                    var took = current.GetProperty("finished_at").GetDateTimeOffset() - current.GetProperty("created_at").GetDateTimeOffset();
                    return $"job {took.TotalSeconds:F2} s";
                case "failed":
                    throw new InvalidOperationException($"job {id}: {current.GetProperty("error").GetString()}");
            }
        }
    }

    private static async Task<JsonElement> SendAsync(HttpClient api, HttpMethod method, string path, JsonNode? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 2000)]}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static ProcessStartInfo Start(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        return start;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("gave up after 5 min");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>True when 127.0.0.1:port answers <paramref name="name"/> A with <paramref name="address"/> (a raw UDP query: no resolver library in the loop).</summary>
    private static async Task<bool> AnswersAsync(int port, string name, string address)
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        var query = Query(name);
        await udp.SendAsync(query, new IPEndPoint(IPAddress.Loopback, port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            var answer = (await udp.ReceiveAsync(timeout.Token)).Buffer;
            var ancount = (answer[6] << 8) | answer[7];
            return ancount > 0 && answer.AsSpan(answer.Length - 4).SequenceEqual(IPAddress.Parse(address).GetAddressBytes());
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static byte[] Query(string name)
    {
        var bytes = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange([0, 0, 1, 0, 1]);
        return [.. bytes];
    }

    private static string Address(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    private static string BigZone(string zone, int records)
    {
        var text = new StringBuilder(records * 32);
        text.Append(CultureInfo.InvariantCulture, $"$ORIGIN {zone}.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n");
        for (var i = 0; i < records - 3; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"h{i} IN A {Address(i)}\n");
        }

        return text.ToString();
    }

    private static string SmallZone(string zone, string www) =>
        $"$ORIGIN {zone}.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A {www}\n";

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static List<int> KnotdOf(string dir) => Directory.EnumerateDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
        .Where(pid => pid > 0 && Read($"/proc/{pid}/cmdline").Contains("knotd", StringComparison.Ordinal) && Read($"/proc/{pid}/cmdline").Contains(dir, StringComparison.Ordinal))
        .ToList();

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
