using ManagedServers.Agent.Startup;
using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Enrollment;

/// <summary><c>enroll --bundle FILE --state-dir DIR</c>: exit 0 on success, 1 with one line on stderr on failure.</summary>
internal static class EnrollCommand
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(
        string bundlePath,
        string stateDir,
        TextWriter stdout,
        TextWriter stderr,
        TimeProvider time,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null)
    {
        var state = new StateDirectory(stateDir);
        EnrollmentResult result;
        try
        {
            var bundle = SetupBundleReader.ReadFile(bundlePath);
            result = await new EnrollmentClient(timeout ?? DefaultTimeout, time).EnrollAsync(bundle, cancellationToken);
        }
        catch (AgentException e)
        {
            await stderr.WriteLineAsync($"enroll failed: {e.Message}");
            return AgentProgram.ExitFailure;
        }

        try
        {
            state.WriteAmqp(result.Amqp);
            state.WriteEnrollment(result.Settings, result.KeyPem, result.CertificatePem, result.CaPem);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"enroll failed: cannot write state directory {state.Path}: {e.Message}");
            return AgentProgram.ExitFailure;
        }

        await stdout.WriteLineAsync(
            $"enrolled as {result.Settings.ServerName} ({result.Settings.ServerId}); certificate valid until {result.NotAfter:u}; "
            + (result.Amqp is { } amqp ? $"talks AMQP to {amqp.Host}:{amqp.Port} as {amqp.User}; " : string.Empty)
            + $"state in {state.Path}");
        return AgentProgram.ExitOk;
    }
}
