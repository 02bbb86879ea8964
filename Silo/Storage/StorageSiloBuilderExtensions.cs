using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace ManagedServers.Silo.Storage;

/// <summary>Wires ManagedServers storage (grain state, reminders, Postgres clustering) into a silo.</summary>
public static class StorageSiloBuilderExtensions
{
    /// <summary>Grain storage provider name for grain state (also the default provider).</summary>
    public const string DefaultStorageName = "Default";

    /// <summary>Grain storage provider name used by Orleans streaming pub/sub.</summary>
    public const string PubSubStorageName = "PubSubStore";

    /// <summary>
    /// Registers grain storage "Default" (the default provider) and "PubSubStore" through Orleans'
    /// ADO.NET grain storage, reminders (SQLite: <see cref="SqliteReminderTable"/>; Postgres: the
    /// ADO.NET reminder table) and a lifecycle participant that applies the schema before any of
    /// those providers (or ADO.NET clustering) initialise.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="config">The storage selection.</param>
    public static ISiloBuilder UseManagedServersStorage(this ISiloBuilder builder, StorageConfig config)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(config);

        AddSchemaInitializer(builder, config);

        var invariant = config.AdoNetInvariant;
        void ConfigureGrainStorage(AdoNetGrainStorageOptions options)
        {
            options.Invariant = invariant;
            options.ConnectionString = config.ConnectionString;
            options.DeleteStateOnClear = true; // a deleted server leaves no state rows (DeleteStorageKey in the scripts)
        }

        builder.AddAdoNetGrainStorage(DefaultStorageName, ConfigureGrainStorage);
        builder.AddAdoNetGrainStorage(PubSubStorageName, ConfigureGrainStorage);

        switch (config.Mode)
        {
            case StorageMode.Sqlite:
                builder.AddReminders();
                builder.Services.AddSingleton<IReminderTable>(sp => new SqliteReminderTable(
                    config.ConnectionString,
                    sp.GetRequiredService<IOptions<ClusterOptions>>(),
                    sp.GetRequiredService<ILogger<SqliteReminderTable>>()));
                break;
            case StorageMode.Postgres:
                builder.UseAdoNetReminderService(options =>
                {
                    options.Invariant = invariant;
                    options.ConnectionString = config.ConnectionString;
                });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config.Mode, "Unknown storage mode.");
        }

        return builder;
    }

    /// <summary>
    /// Postgres only: ADO.NET clustering on the same database; the schema is applied before
    /// membership starts (once per silo even when <see cref="UseManagedServersStorage"/> is also
    /// called). SQLite mode does nothing: the caller configures localhost clustering.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="config">The storage selection.</param>
    public static ISiloBuilder UseManagedServersClustering(this ISiloBuilder builder, StorageConfig config)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(config);

        if (config.Mode == StorageMode.Postgres)
        {
            AddSchemaInitializer(builder, config);
            builder.UseAdoNetClustering(options =>
            {
                options.Invariant = config.AdoNetInvariant;
                options.ConnectionString = config.ConnectionString;
            });
        }

        return builder;
    }

    /// <summary>Registers the schema lifecycle participant once per storage configuration.</summary>
    private static void AddSchemaInitializer(ISiloBuilder builder, StorageConfig config)
    {
        var registered = builder.Services.Any(descriptor =>
            descriptor.ServiceType == typeof(SchemaRegistration)
            && descriptor.ImplementationInstance is SchemaRegistration registration
            && registration.Config == config);
        if (registered)
        {
            return;
        }

        builder.Services.AddSingleton(new SchemaRegistration(config));
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(
            sp => new StorageSchemaInitializer(config, sp.GetRequiredService<ILogger<StorageSchemaInitializer>>()));
    }

    /// <summary>Marks a storage configuration whose schema participant is already registered.</summary>
    private sealed record SchemaRegistration(StorageConfig Config);
}
