using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>Finds the built silo and agent and runs them as real processes.</summary>
public static class Build
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string RepoRoot { get; } = FindRoot();

    public static string SiloDll => Path.Combine(RepoRoot, "Silo", "bin", Configuration, "net10.0", "ManagedServers.Silo.dll");

    public static string AgentDll => Path.Combine(RepoRoot, "Agent", "bin", Configuration, "net10.0", "ManagedServers.Agent.dll");

    public static string CliDll => Path.Combine(RepoRoot, "Cli", "bin", Configuration, "net10.0", "msctl.dll");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ManagedServers.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("ManagedServers.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A child process with captured output, stopped by signal.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public ChildProcess(string dll, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public void Terminate() => _ = Kill(_process.Id, 15);

    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private bool _disposed;

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>One silo process on its own ports and data directory, with an admin token.</summary>
public sealed class SiloProcess : ISiloApi, IAsyncDisposable
{
    public const string AdminPassword = "e2e-admin-password";
    private readonly Dictionary<string, string> _extraArgs;
    private ChildProcess? _process;

    public SiloProcess(string dataDir, IDictionary<string, string>? extraArgs = null)
    {
        DataDir = dataDir;
        _extraArgs = new Dictionary<string, string>(extraArgs ?? new Dictionary<string, string>());
        HttpPort = Build.FreePort();
        AgentPort = Build.FreePort();
        SiloPort = Build.FreePort();
        GatewayPort = Build.FreePort();
    }

    public string DataDir { get; }

    public int HttpPort { get; private set; }

    public int AgentPort { get; private set; }

    public int SiloPort { get; private set; }

    public int GatewayPort { get; private set; }

    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient NewClient() => new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The admin API token this harness logged in with.</summary>
    public string Token { get; private set; } = string.Empty;

    public string Output => _process?.Output ?? string.Empty;

    /// <summary>
    /// Starts the silo. A port picked free can be taken by another process of the parallel test run before the
    /// silo binds it; then the silo exits with "Address already in use" and this tries again on new ports.
    /// </summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync();
                return;
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
                _process?.Dispose();
                _process = null;
                HttpPort = Build.FreePort();
                AgentPort = Build.FreePort();
                SiloPort = Build.FreePort();
                GatewayPort = Build.FreePort();
            }
        }
    }

    private async Task StartOnceAsync()
    {
        var args = new List<string>
        {
            "--urls", BaseUrl,
            "--AgentUrls", $"https://127.0.0.1:{AgentPort}",
            "--DataDir", DataDir,
            "--Orleans:SiloPort", SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Orleans:GatewayPort", GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in _extraArgs)
        {
            args.Add("--" + k);
            args.Add(v);
        }

        _process = new ChildProcess(Build.SiloDll, args, new Dictionary<string, string> { ["MANAGEDSERVERS_ADMIN_PASSWORD"] = AdminPassword });
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("silo exited early:\n" + _process.Output);
            }

            try
            {
                using var response = await Http.GetAsync($"{BaseUrl}/healthz");
                if (response.IsSuccessStatusCode)
                {
                    await LoginAsync();
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("silo did not start:\n" + _process.Output);
    }

    /// <summary>SIGKILL: the silo gets no chance to leave the cluster or close its connections.</summary>
    public void KillHard() => _process?.KillHard();

    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Terminate();
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(60)))
        {
            _process.KillHard();
        }

        _process.Dispose();
        _process = null;
    }

    public async Task<string> WriteBundleAsync(string serverId, string directory, int? expiresInSeconds = null)
    {
        var url = $"{BaseUrl}/api/v1/servers/{serverId}/setup-bundle" + (expiresInSeconds is { } s ? $"?expires_in_seconds={s}" : string.Empty);
        var bytes = await Http.GetByteArrayAsync(url);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, serverId + ".bundle.json");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    public async Task PutSettingsAsync(MonitoringSettingsUpdate update)
    {
        using var response = await Http.PutAsJsonAsync($"{BaseUrl}/api/v1/settings/monitoring", update, ContractsJson.WireOptions);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The server's raw system samples in [from, now), oldest first.</summary>
    public async Task<RawSamplesView> GetRawSamplesAsync(string serverId, DateTimeOffset from, string? metric = null)
    {
        var url = $"{BaseUrl}/api/v1/monitoring/system/raw?server={serverId}&from={Uri.EscapeDataString(from.ToString("O"))}&limit=20000"
            + (metric is null ? string.Empty : "&metric=" + Uri.EscapeDataString(metric));
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize(body, ContractsJson.Default.RawSamplesView)!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
    }

    private async Task LoginAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{BaseUrl}/api/v1/tokens") { Content = JsonContent.Create(new CreateTokenRequest("e2e"), options: ContractsJson.WireOptions) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + AdminPassword)));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<CreatedToken>(ContractsJson.WireOptions))!;
        Token = token.Token;
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
    }
}

/// <summary>A silo's people API as tests reach it: a process (<see cref="SiloProcess"/>) or in the test process (<c>ApiHost</c>).</summary>
public interface ISiloApi
{
    /// <summary>The people listener's base URL.</summary>
    string BaseUrl { get; }

    /// <summary>A client logged in as the admin.</summary>
    HttpClient Http { get; }

    /// <summary>A new client with no credentials (the caller disposes it).</summary>
    HttpClient NewClient();
}

/// <summary>Calls every test makes on a silo's API.</summary>
public static class SiloApi
{
    public static async Task<ServerView> CreateServerAsync(this ISiloApi silo, string name, string kind = "dns", string? runtime = null, string address = "127.0.0.1")
    {
        using var response = await silo.Http.PostAsJsonAsync($"{silo.BaseUrl}/api/v1/servers", new CreateServerRequest(name, kind, address, "Debian 12", Runtime: runtime), ContractsJson.WireOptions);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!;
    }

    /// <summary>The first page (up to 500) of the fleet, by name.</summary>
    public static async Task<PageOf<ServerView>> ListServersAsync(this ISiloApi silo) =>
        (await silo.Http.GetFromJsonAsync<PageOf<ServerView>>($"{silo.BaseUrl}/api/v1/servers?per_page=500", ContractsJson.WireOptions))!;

    public static async Task<ServerView?> GetServerAsync(this ISiloApi silo, string id)
    {
        using var response = await silo.Http.GetAsync($"{silo.BaseUrl}/api/v1/servers/{id}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : (await response.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions))!;
    }
}

/// <summary>The real agent: enrol from a bundle, then run.</summary>
public static class AgentProcess
{
    public static async Task<(int ExitCode, string Output)> EnrollAsync(string bundle, string stateDir)
    {
        using var enroll = new ChildProcess(Build.AgentDll, ["enroll", "--bundle", bundle, "--state-dir", stateDir]);
        Assert.True(await enroll.WaitForExitAsync(TimeSpan.FromSeconds(90)), "enroll did not finish:\n" + enroll.Output);
        return (enroll.ExitCode, enroll.Output);
    }

    public static ChildProcess Run(string stateDir) => new(Build.AgentDll, ["run", "--state-dir", stateDir]);

    /// <summary>Runs with debug logging, which names every sample the agent spools (<see cref="SpooledSampleTimes"/>).</summary>
    public static ChildProcess RunVerbose(string stateDir, params string[] extraArgs) =>
        new(Build.AgentDll, ["run", "--state-dir", stateDir, .. extraArgs], new Dictionary<string, string> { ["MANAGEDSERVERS_AGENT_LOG"] = "debug" });

    /// <summary>Runs with debug logging and extra environment (e.g. the test-only MANAGEDSERVERS_AGENT_STEP_DELAY_MS).</summary>
    public static ChildProcess RunVerbose(string stateDir, IDictionary<string, string> environment) =>
        new(Build.AgentDll, ["run", "--state-dir", stateDir], new Dictionary<string, string>(environment) { ["MANAGEDSERVERS_AGENT_LOG"] = "debug" });

    /// <summary>Unix-ms times of the samples a verbose agent reported as spooled.</summary>
    public static HashSet<long> SpooledSampleTimes(string output) =>
        [.. System.Text.RegularExpressions.Regex.Matches(output, @"Sample (\d+) spooled").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>msctl as a process against a silo, with its config under <c>dir</c> and the silo's URL (and token, if asked).</summary>
public static class Msctl
{
    public static Task<(int Code, string Out)> RunAsync(SiloProcess silo, string dir, bool withToken, params string[] args) =>
        RunWithTokenAsync(silo, dir, withToken ? silo.Token : null, args);

    /// <summary>msctl with <paramref name="token"/> in MANAGEDSERVERS_TOKEN (null: none; the saved login, if any, is used).</summary>
    public static async Task<(int Code, string Out)> RunWithTokenAsync(SiloProcess silo, string dir, string? token, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["XDG_CONFIG_HOME"] = Path.Combine(dir, "config"),
            ["HOME"] = dir,
            ["MANAGEDSERVERS_URL"] = silo.BaseUrl,
            ["MANAGEDSERVERS_PASSWORD"] = SiloProcess.AdminPassword,
        };
        if (token is not null)
        {
            env["MANAGEDSERVERS_TOKEN"] = token;
        }

        using var process = new ChildProcess(Build.CliDll, args, env);
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(120)), "msctl hung: " + process.Output);
        return (process.ExitCode, process.Output);
    }
}
