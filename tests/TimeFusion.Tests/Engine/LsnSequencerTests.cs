using TimeFusion.Engine;

namespace TimeFusion.Tests.Engine;

public class LsnSequencerTests
{
    [Fact]
    public async Task Applies_concurrently_completed_lsns_in_order()
    {
        var sequencer = new LsnSequencer(appliedThrough: 10);
        var order = new List<long>();
        // LSNs arrive in a scrambled order, as concurrent WAL acknowledgements do.
        var lsns = Enumerable.Range(11, 200).Select(i => (long)i).OrderBy(_ => Random.Shared.Next()).ToList();
        await Task.WhenAll(lsns.Select(lsn => Task.Run(async () =>
        {
            await sequencer.WaitTurnAsync(lsn);
            lock (order) order.Add(lsn);
            sequencer.Complete(lsn);
        })));
        Assert.Equal(Enumerable.Range(11, 200).Select(i => (long)i), order);
        Assert.Equal(210, sequencer.AppliedThrough);
    }

    [Fact]
    public async Task A_later_lsn_waits_until_the_earlier_one_completes()
    {
        var sequencer = new LsnSequencer(0);
        var second = sequencer.WaitTurnAsync(2);
        Assert.False(second.IsCompleted);
        await sequencer.WaitTurnAsync(1);
        Assert.Equal(0, sequencer.AppliedThrough);
        sequencer.Complete(1);
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, sequencer.AppliedThrough);
    }

    [Fact]
    public void Out_of_turn_or_repeated_lsns_are_refused()
    {
        var sequencer = new LsnSequencer(5);
        Assert.Throws<InvalidOperationException>(() => sequencer.Complete(7));
        Assert.Throws<InvalidOperationException>(() => { _ = sequencer.WaitTurnAsync(5); });
    }
}
