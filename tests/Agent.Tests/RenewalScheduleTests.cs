using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Agent.Tests;

public sealed class RenewalScheduleTests
{
    [Fact]
    public void Renewal_is_due_after_two_thirds_of_the_lifetime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var notBefore = time.GetUtcNow();
        var notAfter = notBefore.AddDays(90);
        var schedule = new RenewalSchedule();

        Assert.Equal(notBefore.AddDays(60), schedule.RenewAt(notBefore, notAfter));
        Assert.False(schedule.IsDue(notBefore, notAfter, time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromDays(60), schedule.DelayUntilRenewal(notBefore, notAfter, time.GetUtcNow()));

        time.Advance(TimeSpan.FromDays(59));
        Assert.False(schedule.IsDue(notBefore, notAfter, time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromDays(1), schedule.DelayUntilRenewal(notBefore, notAfter, time.GetUtcNow()));

        time.Advance(TimeSpan.FromDays(1));
        Assert.True(schedule.IsDue(notBefore, notAfter, time.GetUtcNow()));
        Assert.Equal(TimeSpan.Zero, schedule.DelayUntilRenewal(notBefore, notAfter, time.GetUtcNow()));
    }

    [Fact]
    public void Certificate_already_past_the_point_or_expired_is_due_at_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var schedule = new RenewalSchedule();

        Assert.Equal(TimeSpan.Zero, schedule.DelayUntilRenewal(time.GetUtcNow().AddDays(-80), time.GetUtcNow().AddDays(10), time.GetUtcNow()));
        Assert.True(schedule.IsDue(time.GetUtcNow().AddDays(-100), time.GetUtcNow().AddDays(-10), time.GetUtcNow()));
    }

    [Fact]
    public void Fraction_is_configurable_and_checked()
    {
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(start.AddSeconds(3), new RenewalSchedule(0.5).RenewAt(start, start.AddSeconds(6)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RenewalSchedule(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RenewalSchedule(1.5));
    }

    [Fact]
    public async Task Delay_until_due_follows_the_fake_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var due = time.GetUtcNow().AddDays(60); // longer than one Task.Delay can wait
        var wait = Delays.UntilAsync(due, time, CancellationToken.None);

        time.Advance(TimeSpan.FromDays(59));
        await Task.Delay(50);
        Assert.False(wait.IsCompleted);

        for (var i = 0; i < 200 && !wait.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromHours(1));
            await Task.Delay(10);
        }

        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(time.GetUtcNow() >= due);
    }

    [Fact]
    public void Backoff_grows_with_jitter_up_to_the_cap_and_resets()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(7));
        var delays = Enumerable.Range(0, 10).Select(_ => backoff.Next()).ToList();

        Assert.InRange(delays[0], TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.InRange(delays[3], TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
        Assert.All(delays.Skip(5), d => Assert.InRange(d, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30)));

        backoff.Reset();
        Assert.InRange(backoff.Next(), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
    }
}
