using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace ManagedServers.Silo.Storage;

/// <summary>
/// Applies the storage schema when the silo starts, before any Orleans provider reads OrleansQuery:
/// membership (MembershipTableManager) and the reminder service start at
/// <see cref="ServiceLifecycleStage.RuntimeGrainServices"/>, ADO.NET grain storage at
/// <see cref="ServiceLifecycleStage.ApplicationServices"/>; this runs just before
/// <see cref="ServiceLifecycleStage.RuntimeInitialize"/>.
/// </summary>
internal sealed partial class StorageSchemaInitializer(StorageConfig config, ILogger<StorageSchemaInitializer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The lifecycle stage the schema is applied in.</summary>
    public const int Stage = ServiceLifecycleStage.RuntimeInitialize - 1;

    private const int MaxAttempts = 5;

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(StorageSchemaInitializer), Stage, ApplyAsync);

    private async Task ApplyAsync(CancellationToken ct)
    {
        var target = DescribeTarget(config);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var applied = await SchemaSetup.EnsureAsync(config, ct);
                if (applied)
                {
                    LogSchemaApplied(config.Mode, target);
                }
                else
                {
                    LogSchemaCurrent(config.Mode, target);
                }

                return;
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsTransient(ex) && !ct.IsCancellationRequested)
            {
                var delay = TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));
                LogSchemaRetry(ex, config.Mode, target, attempt, delay);
                await Task.Delay(delay, ct);
            }
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        DbException db => db.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>Where the schema goes, without credentials: the SQLite file or the Postgres host/database.</summary>
    internal static string DescribeTarget(StorageConfig config)
    {
        try
        {
            return config.Mode switch
            {
                StorageMode.Sqlite => new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(config.ConnectionString).DataSource,
                StorageMode.Postgres => DescribePostgres(new NpgsqlConnectionStringBuilder(config.ConnectionString)),
                _ => config.Mode.ToString(),
            };
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }

        static string DescribePostgres(NpgsqlConnectionStringBuilder builder)
            => $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Applied {Mode} storage schema to {Target}")]
    private partial void LogSchemaApplied(StorageMode mode, string target);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "{Mode} storage schema in {Target} is current")]
    private partial void LogSchemaCurrent(StorageMode mode, string target);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Applying {Mode} storage schema to {Target} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogSchemaRetry(Exception exception, StorageMode mode, string target, int attempt, TimeSpan delay);
}
