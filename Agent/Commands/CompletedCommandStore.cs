using System.Text.Json;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Commands;

/// <summary>
/// The results of the last <see cref="Capacity"/> completed commands, persisted atomically to
/// <c>commands.json</c> so a command id redelivered (even after an agent restart) is answered with
/// its stored result instead of being executed again.
/// </summary>
internal sealed class CompletedCommandStore
{
    public const int DefaultCapacity = 1000;
    private const int FileFormatVersion = 1;

    private readonly string _file;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<CommandResult>> _byId = new(StringComparer.Ordinal);
    private readonly LinkedList<CommandResult> _order = new();

    public CompletedCommandStore(string file, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _file = file;
        Capacity = capacity;
        LoadError = Load();
    }

    public int Capacity { get; }

    /// <summary>Why the file could not be read at start (the store then starts empty), or null.</summary>
    public string? LoadError { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _order.Count;
            }
        }
    }

    public bool TryGet(string commandId, out CommandResult result)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(commandId, out var node))
            {
                result = node.Value;
                return true;
            }
        }

        result = null!;
        return false;
    }

    /// <summary>Records a result (the first one for an id wins), drops the oldest beyond capacity, and saves.</summary>
    public CommandResult Add(CommandResult result)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(result.CommandId, out var existing))
            {
                return existing.Value;
            }

            _byId[result.CommandId] = _order.AddLast(result);
            while (_order.Count > Capacity)
            {
                _byId.Remove(_order.First!.Value.CommandId);
                _order.RemoveFirst();
            }

            Save();
            return result;
        }
    }

    private void Save()
    {
        AtomicFile.Write(
            _file,
            stream =>
            {
                using var writer = new Utf8JsonWriter(stream);
                writer.WriteStartObject();
                writer.WriteNumber("version", FileFormatVersion);
                writer.WriteStartArray("completed");
                foreach (var result in _order)
                {
                    JsonSerializer.Serialize(writer, result, ContractsJson.Default.CommandResult);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            },
            AtomicFile.OwnerOnly);
    }

    private string? Load()
    {
        if (!File.Exists(_file))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(_file));
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("completed", out var completed)
                || completed.ValueKind != JsonValueKind.Array)
            {
                return $"{_file} has no 'completed' list";
            }

            foreach (var element in completed.EnumerateArray())
            {
                var result = element.Deserialize(ContractsJson.Default.CommandResult);
                if (result is null || string.IsNullOrEmpty(result.CommandId) || _byId.ContainsKey(result.CommandId))
                {
                    continue;
                }

                _byId[result.CommandId] = _order.AddLast(result);
            }

            while (_order.Count > Capacity)
            {
                _byId.Remove(_order.First!.Value.CommandId);
                _order.RemoveFirst();
            }

            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            _byId.Clear();
            _order.Clear();
            return $"cannot read {_file}: {e.Message}";
        }
    }
}
