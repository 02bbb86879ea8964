using System.Collections.Concurrent;
using Orleans.Runtime;

namespace ManagedServers.Silo.Tests;

/// <summary>Grain state used by the storage conformance tests.</summary>
[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public string? Label { get; set; }
}

/// <summary>A grain with one persistent state on the "Default" storage provider.</summary>
public interface IStorageTestGrain : IGrainWithStringKey
{
    Task SetAsync(int value, string label);

    /// <summary>The in-memory state of the current activation.</summary>
    Task<CounterState> GetAsync();

    /// <summary>Re-reads the state from storage and returns it.</summary>
    Task<CounterState> ReadFromStorageAsync();

    Task<bool> RecordExistsAsync();

    Task ClearAsync();

    /// <summary>Identifies the activation, so a test can tell that a new one was created.</summary>
    Task<Guid> GetActivationIdAsync();

    Task DeactivateAsync();
}

public sealed class StorageTestGrain(
    [PersistentState("state", "Default")] IPersistentState<CounterState> state) : Grain, IStorageTestGrain
{
    private readonly Guid _activationId = Guid.NewGuid();

    public async Task SetAsync(int value, string label)
    {
        state.State = new CounterState { Value = value, Label = label };
        await state.WriteStateAsync();
    }

    public Task<CounterState> GetAsync() => Task.FromResult(state.State);

    public async Task<CounterState> ReadFromStorageAsync()
    {
        await state.ReadStateAsync();
        return state.State;
    }

    public Task<bool> RecordExistsAsync() => Task.FromResult(state.RecordExists);

    public Task ClearAsync() => state.ClearStateAsync();

    public Task<Guid> GetActivationIdAsync() => Task.FromResult(_activationId);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>A grain that records every reminder tick in <see cref="ReminderTickLog"/>.</summary>
public interface IReminderTestGrain : IGrainWithStringKey
{
    Task StartAsync(string reminderName, TimeSpan dueTime, TimeSpan period);

    Task StopAsync(string reminderName);

    /// <summary>The silo hosting this activation (activates the grain).</summary>
    Task<SiloAddress> GetSiloAsync();
}

public sealed class ReminderTestGrain(ILocalSiloDetails siloDetails) : Grain, IReminderTestGrain, IRemindable
{
    public async Task StartAsync(string reminderName, TimeSpan dueTime, TimeSpan period)
        => await this.RegisterOrUpdateReminder(reminderName, dueTime, period);

    public async Task StopAsync(string reminderName)
    {
        var reminder = await this.GetReminder(reminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<SiloAddress> GetSiloAsync() => Task.FromResult(siloDetails.SiloAddress);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ReminderTickLog.Record(this.GetPrimaryKeyString(), reminderName, siloDetails.SiloAddress);
        return Task.CompletedTask;
    }
}

/// <summary>One reminder tick as seen by <see cref="ReminderTestGrain"/>.</summary>
public sealed record ReminderTick(string ReminderName, SiloAddress Silo, DateTime ReceivedAtUtc);

/// <summary>Process-wide tick log; all test silos run in this process. Keyed by grain key.</summary>
public static class ReminderTickLog
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<ReminderTick>> Ticks = new();

    public static void Record(string grainKey, string reminderName, SiloAddress silo)
        => Ticks.GetOrAdd(grainKey, _ => new()).Enqueue(new ReminderTick(reminderName, silo, DateTime.UtcNow));

    public static IReadOnlyList<ReminderTick> For(string grainKey)
        => Ticks.TryGetValue(grainKey, out var ticks) ? ticks.ToArray() : [];
}
