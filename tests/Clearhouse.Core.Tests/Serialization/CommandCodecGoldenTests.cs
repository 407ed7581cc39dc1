using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Tests.Serialization;

/// <summary>
/// The canonical command bytes are hashed into block command roots and replayed from old journals:
/// they must never change. The expected bytes below were produced by the original
/// (<see cref="CanonicalWriter"/>-only) encoder; every encoding path must reproduce them.
/// </summary>
public class CommandCodecGoldenTests
{
    public static TheoryData<int> Cases => new(Enumerable.Range(0, Commands.Length));

    private static readonly Command[] Commands =
    [
        new PlaceOrder(7, 1, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, new Price(123_456_789), new Quantity(42)) { Sequence = 1001, TimestampMicros = 1_700_000_000_000_001 },
        new PlaceOrder(-3, 2, Side.Sell, OrderType.Limit, TimeInForce.ImmediateOrCancel, new Price(-5), new Quantity(long.MaxValue), OrderFlags.PostOnly | OrderFlags.ReduceOnly, "client-1", SelfTradePrevention.CancelIncoming) { Sequence = long.MaxValue, TimestampMicros = -1 },
        new PlaceOrder(1, 1, Side.Buy, OrderType.Limit, TimeInForce.FillOrKill, new Price(1), new Quantity(1), OrderFlags.None, "é€😀", SelfTradePrevention.CancelResting) { Sequence = 2, TimestampMicros = 3 },
        new PlaceOrder(1, 1, Side.Buy, OrderType.Limit, TimeInForce.FillOrKill, new Price(1), new Quantity(1), OrderFlags.None, "bad\ud800surrogate") { Sequence = 2, TimestampMicros = 3 },
        new PlaceOrder(1, 1, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, new Price(1), new Quantity(1), OrderFlags.None, new string('x', 300)) { Sequence = 4, TimestampMicros = 5 },
        new AmendOrder(9, 77_777_777_777, new Price(100), new Quantity(3)) { Sequence = 6, TimestampMicros = 7 },
        new CancelOrder(9, 12) { Sequence = 8, TimestampMicros = 9 },
        new CancelAllOrders(9) { Sequence = 10, TimestampMicros = 11 },
        new CancelAllOrders(9, 4) { Sequence = 12, TimestampMicros = 13 },
        new SetIndexPrice("BTC", new Price(65_000_000_000)) { Sequence = 14, TimestampMicros = 15 },
        new Deposit(5, Money.FromWhole(10)) { Sequence = 16, TimestampMicros = 17 },
        new Withdraw(5, new Money(-1)) { Sequence = 18, TimestampMicros = 19 },
        new CreateAccount { Sequence = 20, TimestampMicros = 21 },
        new Tick { Sequence = 22, TimestampMicros = 23 },
        new RegisterReporter("ETH", [1, 2, 3, 4]) { Sequence = 24, TimestampMicros = 25 },
        new ConfigureOracle("ETH", new Core.Oracles.OracleParameters(2, 1_000_000, 50_000, 20_000)) { Sequence = 26, TimestampMicros = 27 },
        new SubmitPriceReport(new Core.Oracles.PriceReport("ETH", new Price(3_000_000_000), 1234, 1, [9, 8, 7])) { Sequence = 28, TimestampMicros = 29 },
    ];

    private static readonly string[] Expected =
    [
        "06E90300000000000001401E18240A0600070000000100000001010115CD5B07000000002A0000000000000000FFFFFFFF00",
        "06FFFFFFFFFFFFFF7FFFFFFFFFFFFFFFFFFDFFFFFF02000000020102FBFFFFFFFFFFFFFFFFFFFFFFFFFFFF7F0308000000636C69656E742D3101",
        "06020000000000000003000000000000000100000001000000010103010000000000000001000000000000000009000000C3A9E282ACF09F988000",
        "0602000000000000000300000000000000010000000100000001010301000000000000000100000000000000000F000000626164EFBFBD737572726F6761746500",
        "0604000000000000000500000000000000010000000100000001010101000000000000000100000000000000002C01000078787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787800",
        "09060000000000000007000000000000000900000071B4EA1B1200000064000000000000000300000000000000",
        "0708000000000000000900000000000000090000000C00000000000000",
        "080A000000000000000B000000000000000900000000000000",
        "080C000000000000000D000000000000000900000004000000",
        "050E000000000000000F0000000000000003000000425443004A4D220F000000",
        "0210000000000000001100000000000000050000008096980000000000",
        "031200000000000000130000000000000005000000FFFFFFFFFFFFFFFF",
        "0114000000000000001500000000000000",
        "0D16000000000000001700000000000000",
        "0B18000000000000001900000000000000030000004554480400000001020304",
        "0A1A000000000000001B00000000000000030000004554480200000040420F000000000050C3000000000000204E0000",
        "0C1C000000000000001D0000000000000003000000455448005ED0B200000000D2040000000000000100000003000000090807",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_encoding_path_gives_the_original_bytes(int index)
    {
        var command = Commands[index];
        byte[] expected = Convert.FromHexString(Expected[index]);
        Assert.Equal(expected, CommandCodec.Encode(command));

        var writer = new System.Buffers.ArrayBufferWriter<byte>(1);
        CommandCodec.Encode(command, writer);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());

        var span = new byte[expected.Length + 8];
        Assert.True(CommandCodec.TryEncode(command, span, out int written));
        Assert.Equal(expected, span.AsSpan(0, written).ToArray());
        Assert.True(CommandCodec.TryEncode(command, span.AsSpan(0, expected.Length), out written));
        Assert.Equal(expected.Length, written);
        for (int size = 0; size < expected.Length; size++)
        {
            Assert.False(CommandCodec.TryEncode(command, span.AsSpan(0, size), out written));
            Assert.Equal(0, written);
        }

        Assert.Equal(expected, CommandCodec.Encode(CommandCodec.Decode(expected)));
    }
}
