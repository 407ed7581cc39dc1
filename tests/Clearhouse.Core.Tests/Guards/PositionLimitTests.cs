using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Matching;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>Position limits per account (docs/guards.md): <c>max(floor, share × open interest)</c>, on the worst case.</summary>
public class PositionLimitTests
{
    private static readonly GuardParameters Floor5Share20Pct = new(PositionLimitFloor: GuardVenue.Q(5m), PositionLimitOpenInterestPpm: 200_000);

    [Fact]
    public void Order_that_could_take_the_position_exactly_to_the_floor_is_accepted_and_one_lot_more_is_rejected()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, Floor5Share20Pct);
        int trader = v.NewAccount(10_000_000m);

        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 5.001m), RejectReason.PositionLimitExceeded);
        v.Place(trader, btc, Side.Buy, 99_000m, 3m);

        // The account's other buys count: 3 resting + 2.001 would be 5.001 long if all filled.
        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 98_000m, 2.001m), RejectReason.PositionLimitExceeded);
        v.Place(trader, btc, Side.Buy, 98_000m, 2m);

        // The other side has its own worst case: short 5 is allowed, short 5.001 not.
        v.Place(trader, btc, Side.Sell, 101_000m, 5m);
        v.Reject(GuardVenue.Order(trader, btc, Side.Sell, 101_000m, 0.001m), RejectReason.PositionLimitExceeded);
    }

    [Fact]
    public void The_limit_grows_with_open_interest_above_the_floor()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, Floor5Share20Pct);
        int trader = v.NewAccount(10_000_000m);
        for (int i = 0; i < 10; i++)
        {
            int seller = v.NewAccount(10_000_000m);
            int buyer = v.NewAccount(10_000_000m);
            v.Place(seller, btc, Side.Sell, 100_000m, 5m);
            v.Place(buyer, btc, Side.Buy, 100_000m, 5m);
        }

        Assert.Equal(GuardVenue.Q(50m), v.OpenInterest(btc)); // limit: max(5, 20% × 50) = 10
        v.Place(trader, btc, Side.Buy, 99_000m, 10m);
        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.001m), RejectReason.PositionLimitExceeded);
    }

    [Fact]
    public void A_position_above_its_limit_can_always_be_reduced()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int a = v.NewAccount(10_000_000m);
        int b = v.NewAccount(10_000_000m);
        v.Place(a, btc, Side.Sell, 100_000m, 8m);
        v.Place(b, btc, Side.Buy, 100_000m, 8m);
        v.Accept(new SetInstrumentGuards(btc, new GuardParameters(PositionLimitFloor: GuardVenue.Q(1m))));

        v.Place(b, btc, Side.Sell, 100_000m, 3m); // long 8 → worst 5: still above the limit, but smaller
        v.Reject(GuardVenue.Order(b, btc, Side.Buy, 99_000m, 0.001m), RejectReason.PositionLimitExceeded);
    }
}
