using ManagedServers.Agent.State;


namespace ManagedServers.Agent.Services;

/// <summary>
/// Where a service lives on the host: <c>STATE_DIR/services/KIND/</c> with <c>conf/</c> (generated configuration),
/// <c>data/</c> (zone storage, lease files: kept by <c>service.remove</c>), <c>run/</c> (control socket, pid files)
/// and <c>log/</c> (exec runtime output). The same absolute paths are used inside a container.
/// </summary>
internal sealed record ServiceLayout(string Kind, string Directory, string ConfigFileName, string ControlSocketName)
{
    public string ConfDirectory => Path.Combine(Directory, "conf");

    public string DataDirectory => Path.Combine(Directory, "data");

    public string RunDirectory => Path.Combine(Directory, "run");

    public string LogDirectory => Path.Combine(Directory, "log");

    public string ConfigFile => Path.Combine(ConfDirectory, ConfigFileName);

    /// <summary>The daemon's control socket (Knot: <c>knotc -s</c>; Kea: unix, JSON commands).</summary>
    public string ControlSocket => Path.Combine(RunDirectory, ControlSocketName);

    /// <summary>Where a service of <paramref name="engine"/> lives under <paramref name="servicesRoot"/> (<c>STATE_DIR/services</c>).</summary>
    public static ServiceLayout For(string servicesRoot, Engines.IServiceEngine engine) => In(Path.Combine(servicesRoot, engine.Kind), engine);

    /// <summary>A service of <paramref name="engine"/> in <paramref name="directory"/>.</summary>
    public static ServiceLayout In(string directory, Engines.IServiceEngine engine) => new(engine.Kind, directory, engine.ConfigFileName, engine.ControlSocketName);

    public void CreateDirectories()
    {
        StateDirectory.CreatePrivate(Directory);
        foreach (var dir in new[] { ConfDirectory, DataDirectory, RunDirectory, LogDirectory })
        {
            StateDirectory.CreatePrivate(dir);
        }
    }
}
