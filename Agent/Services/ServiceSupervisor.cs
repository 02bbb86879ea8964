using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Services;

/// <summary>
/// At agent start reconciles the installed services (<see cref="ServiceManager.ReconcileAsync"/>), then compares desired
/// and actual state every second (<see cref="ServiceManager.SuperviseOnceAsync"/>), restarting crashed services with backoff.
/// </summary>
internal sealed class ServiceSupervisor(ServiceManager manager, TimeProvider time, ILogger<ServiceSupervisor> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await manager.ReconcileAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.SupervisionFailed("*", e.Message);
        }

        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await manager.SuperviseOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.SupervisionFailed("*", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
