using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;
using ManagedServers.FleetSimulator;
using RabbitMQ.Client;

/// <summary>
/// The AMQP fleet: N simulated agents publishing heartbeats to RabbitMQ exactly as real agents do
/// (persistent, publisher confirms, their partition's routing key), multiplexed over a few
/// connections and channels. Publish-to-grain latency is sampled from the API: each heartbeat
/// carries its sequence number in uptime_seconds, and the server's last_heartbeat is the grain's
/// clock when it took that heartbeat (same machine, same clock).
/// </summary>
internal static class AmqpFleet
{
    private const int Connections = 8;
    private const int ChannelsPerConnection = 8;
    private const int SentRing = 64;

    public static async Task RunAsync(HttpClient api, Options options)
    {
        var amqp = new Uri(options.Amqp!);
        var factory = new ConnectionFactory
        {
            HostName = amqp.Host,
            Port = amqp.Port > 0 ? amqp.Port : 5672,
            VirtualHost = amqp.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(amqp.AbsolutePath[1..]) : "/",
            UserName = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]),
            Password = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[1]),
        };

        Console.WriteLine($"AMQP fleet: {options.Agents} agents over {Connections}×{ChannelsPerConnection} channels to {factory.HostName}:{factory.Port}{amqp.AbsolutePath}, {options.Partitions} partitions");
        var ids = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Agents), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            using var created = await api.PostAsJsonAsync("/api/v1/servers", new CreateServerRequest($"{options.Prefix}-{i:D6}", "dns", "127.0.0.1", Communication: "amqp"), ContractsJson.WireOptions, ct);
            created.EnsureSuccessStatusCode();
            ids.Add((await created.Content.ReadFromJsonAsync<ServerView>(ContractsJson.WireOptions, ct))!.Id);
        });
        Console.WriteLine($"created {ids.Count} servers in {clock.Elapsed.TotalSeconds:F1} s");

        var connections = new List<IConnection>();
        var channels = new List<(IChannel Channel, SemaphoreSlim Gate)>();
        for (var c = 0; c < Connections; c++)
        {
            var connection = await factory.CreateConnectionAsync($"fleet-simulator-{c}");
            connections.Add(connection);
            for (var k = 0; k < ChannelsPerConnection; k++)
            {
                channels.Add((await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)), new SemaphoreSlim(1, 1)));
            }
        }

        var agents = ids.Select((id, i) => new AmqpAgent(id, AmqpTopology.RoutingKey(AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(id, options.Partitions), id), AmqpTopology.HeartbeatKind), channels[i % channels.Count])).ToArray();
        foreach (var interval in options.Intervals)
        {
            await PhaseAsync(api, factory, agents, interval, options);
        }

        foreach (var (channel, gate) in channels)
        {
            await channel.DisposeAsync();
            gate.Dispose();
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    private static async Task PhaseAsync(HttpClient api, ConnectionFactory factory, AmqpAgent[] agents, int interval, Options options)
    {
        var confirmLatencies = new ConcurrentQueue<double>();
        var grainLatencies = new ConcurrentQueue<double>();
        long confirmed = 0, failed = 0;
        var measuring = false;
        using var stop = new CancellationTokenSource();
        var loops = agents.Select((agent, index) => Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(interval * index / (double)agents.Length), stop.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(interval));
            do
            {
                var started = Stopwatch.GetTimestamp();
                var ok = await agent.BeatAsync().ConfigureAwait(false);
                if (measuring)
                {
                    if (ok)
                    {
                        Interlocked.Increment(ref confirmed);
                        confirmLatencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false));
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(Math.Min(interval * 2, 120)));
        var backlogBefore = await BacklogAsync(factory, options.Partitions);
        measuring = true;
        var cpuBefore = ProcessStats.CpuSeconds(options.SiloPids);
        var measureStart = Stopwatch.GetTimestamp();
        var sampler = Task.Run(async () =>
        {
            while (measuring)
            {
                var agent = agents[Random.Shared.Next(agents.Length)];
                try
                {
                    var view = await api.GetFromJsonAsync<ServerView>($"/api/v1/servers/{agent.Id}", ContractsJson.WireOptions).ConfigureAwait(false);
                    if (view?.LastHeartbeat is { } taken && view.UptimeSeconds is { } sequence && agent.SentAt(sequence) is { } sent)
                    {
                        grainLatencies.Enqueue((taken - sent).TotalMilliseconds);
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(20).ConfigureAwait(false);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(options.Duration));
        measuring = false;
        var seconds = Stopwatch.GetElapsedTime(measureStart).TotalSeconds;
        var cpuAfter = ProcessStats.CpuSeconds(options.SiloPids);
        await sampler;
        var backlogAfter = await BacklogAsync(factory, options.Partitions);
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine($"-- AMQP: {agents.Length} agents every {interval} s --");
        Console.WriteLine($"published+confirmed: {confirmed} ok, {failed} failed in {seconds:F1} s → {confirmed / seconds:F0}/s (offered {agents.Length / (double)interval:F0}/s)");
        Console.WriteLine($"publish→confirm ms: {Percentiles(confirmLatencies)}");
        Console.WriteLine($"publish→grain ms ({grainLatencies.Count} samples): {Percentiles(grainLatencies)}");
        Console.WriteLine($"ready messages in the partitions: {backlogBefore} before, {backlogAfter} after the measured window");
        if (options.SiloPids.Length > 0)
        {
            Console.WriteLine($"silos: CPU {(cpuAfter - cpuBefore) / seconds * 100:F0} % of one core in total (2 cores = 200 %)");
        }
    }

    private static string Percentiles(ConcurrentQueue<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        return $"p50 {P(0.50):F1}  p90 {P(0.90):F1}  p99 {P(0.99):F1}  max {(sorted.Length > 0 ? sorted[^1] : double.NaN):F1}";
    }

    private static async Task<uint> BacklogAsync(ConnectionFactory factory, int partitions)
    {
        await using var connection = await factory.CreateConnectionAsync("fleet-simulator-backlog");
        await using var channel = await connection.CreateChannelAsync();
        uint total = 0;
        for (var p = 0; p < partitions; p++)
        {
            total += (await channel.QueueDeclarePassiveAsync(AmqpTopology.IngestQueue(p))).MessageCount;
        }

        return total;
    }

    /// <summary>One simulated AMQP agent; its channel is shared with others (one publish in flight per channel).</summary>
    private sealed class AmqpAgent(string id, string routingKey, (IChannel Channel, SemaphoreSlim Gate) channel)
    {
        private readonly Guid _boot = Guid.NewGuid();
        private readonly DateTimeOffset[] _sent = new DateTimeOffset[SentRing];
        private long _sequence;

        public string Id => id;

        public DateTimeOffset? SentAt(long sequence) =>
            sequence > 0 && sequence > _sequence - SentRing ? _sent[sequence % SentRing] : null;

        public async Task<bool> BeatAsync()
        {
            var sequence = _sequence + 1;
            var now = DateTimeOffset.UtcNow;
            var beat = new Heartbeat(Id, Guid.NewGuid(), _boot, sequence, now, "sim", sequence, "sim", "sim");
            var body = JsonSerializer.SerializeToUtf8Bytes(beat, ContractsJson.Default.Heartbeat);
            await channel.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                _sent[sequence % SentRing] = now;
                _sequence = sequence;
                await channel.Channel.BasicPublishAsync(AmqpTopology.IngestExchange, routingKey, mandatory: true, new BasicProperties { Persistent = true, Type = AmqpTopology.HeartbeatKind, ContentType = "application/json" }, body).ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is RabbitMQ.Client.Exceptions.PublishException or RabbitMQ.Client.Exceptions.AlreadyClosedException)
            {
                return false;
            }
            finally
            {
                channel.Gate.Release();
            }
        }
    }
}
