using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

/// <summary>
/// The 512-bit batch path of <see cref="Black76"/>: eight options per instruction, the same
/// operations as the four-lane kernel and the scalar one, so bit-identical to both. On CPUs that
/// execute 512-bit vectors as two 256-bit halves (AMD Zen 4) the gain is not in arithmetic
/// throughput but in latency hiding: each instruction carries two groups of four, so the
/// out-of-order window covers twice as many independent options along the long exp/ln/Φ chains.
/// </summary>
public static partial class Black76
{
    /// <summary>Groups of eight from the start while eight remain; returns the first index not priced.</summary>
    private static int PriceBatch512(Black76BatchInput input, Black76BatchOutput output)
    {
        // Lengths were checked by the caller (EnsureLength, i + 8 ≤ n): unchecked loads and stores.
        int n = input.Length;
        ref readonly OptionRight rights = ref MemoryMarshal.GetReference(input.Rights);
        ref readonly double forwards = ref MemoryMarshal.GetReference(input.Forwards);
        ref readonly double strikes = ref MemoryMarshal.GetReference(input.Strikes);
        ref readonly double years = ref MemoryMarshal.GetReference(input.YearsToExpiry);
        ref readonly double vols = ref MemoryMarshal.GetReference(input.Volatilities);
        ref readonly double rates = ref MemoryMarshal.GetReference(input.Rates);
        ref double prices = ref MemoryMarshal.GetReference(output.Prices);
        ref double deltas = ref MemoryMarshal.GetReference(output.Deltas);
        ref double gammas = ref MemoryMarshal.GetReference(output.Gammas);
        ref double vegas = ref MemoryMarshal.GetReference(output.Vegas);
        ref double thetas = ref MemoryMarshal.GetReference(output.Thetas);
        ref double rhos = ref MemoryMarshal.GetReference(output.Rhos);
        int i = 0;
        for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
        {
            nuint at = (nuint)i;
            var sign = Vector512.Create(
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 1)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 2)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 3)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 4)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 5)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 6)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 7)));
            EvaluateVector512(
                sign,
                Vector512.LoadUnsafe(in forwards, at),
                Vector512.LoadUnsafe(in strikes, at),
                Vector512.LoadUnsafe(in years, at),
                Vector512.LoadUnsafe(in vols, at),
                Vector512.LoadUnsafe(in rates, at),
                out var price, out var delta, out var gamma, out var vega, out var theta, out var rho);
            price.StoreUnsafe(ref prices, at);
            delta.StoreUnsafe(ref deltas, at);
            gamma.StoreUnsafe(ref gammas, at);
            vega.StoreUnsafe(ref vegas, at);
            theta.StoreUnsafe(ref thetas, at);
            rho.StoreUnsafe(ref rhos, at);
        }

        return i;
    }

    /// <summary>The eight-lane kernel, <see cref="EvaluateVector"/> with Vector512 (a mechanical copy: keep them the same): <see cref="Evaluate(double, double, double, double, double, double)"/> with branches as selects.</summary>
    internal static void EvaluateVector512(
        Vector512<double> sign,
        Vector512<double> forward,
        Vector512<double> strike,
        Vector512<double> years,
        Vector512<double> vol,
        Vector512<double> rate,
        out Vector512<double> price,
        out Vector512<double> delta,
        out Vector512<double> gamma,
        out Vector512<double> vega,
        out Vector512<double> theta,
        out Vector512<double> rho)
    {
        var zero = Vector512<double>.Zero;
        var inf = Vector512.Create(double.PositiveInfinity);
        var valid = Vector512.GreaterThan(forward, zero) & Vector512.LessThan(forward, inf)
            & Vector512.GreaterThan(strike, zero) & Vector512.LessThan(strike, inf)
            & Vector512.GreaterThanOrEqual(years, zero) & Vector512.LessThan(years, inf)
            & Vector512.GreaterThanOrEqual(vol, zero) & Vector512.LessThan(vol, inf)
            & Vector512.GreaterThan(rate, -inf) & Vector512.LessThan(rate, inf)
            & (Vector512.Equals(sign, Vector512.Create(1.0)) | Vector512.Equals(sign, Vector512.Create(-1.0)));

        var discount = DeterministicMathVector512.Exp(-rate * years);
        var sqrtT = Vector512.Sqrt(years);
        var sd = vol * sqrtT;
        var live = Vector512.GreaterThan(sd, zero);

        // Lanes with σ√T > 0.
        var ratio = forward / strike;
        var lnFK = DeterministicMathVector512.Ln(ratio);
        var d1 = lnFK / sd + Vector512.Create(0.5) * sd;
        var d2 = d1 - sd;
        var e1 = DeterministicMathVector512.ExpMinusHalfSquare(DeterministicMathVector512.ClampForPdf(d1));
        var pdf = Vector512.Create(DeterministicMath.InvSqrt2Pi) * e1;
        var nd1 = DeterministicMathVector512.NormalCdfGivenExp(sign * d1, e1);
        var nd2 = DeterministicMathVector512.NormalCdfGivenExp(sign * d2, e1 * ratio);
        var undiscounted = sign * (forward * nd1 - strike * nd2);
        undiscounted = Vector512.ConditionalSelect(Vector512.GreaterThan(undiscounted, zero), undiscounted, zero);
        var livePrice = discount * undiscounted;
        var dpdf = discount * pdf;
        var liveDelta = sign * discount * nd1;
        var liveGamma = dpdf / (forward * sd);
        var liveVega = dpdf * forward * sqrtT;
        var liveTheta = rate * livePrice - dpdf * forward * vol / (Vector512.Create(2.0) * sqrtT);

        // Lanes at intrinsic value.
        var moneyness = sign * (forward - strike);
        var itm = Vector512.GreaterThan(moneyness, zero);
        var intrinsic = Vector512.ConditionalSelect(itm, moneyness, zero);
        var deltaFactor = Vector512.ConditionalSelect(
            itm,
            Vector512.Create(1.0),
            Vector512.ConditionalSelect(Vector512.Equals(moneyness, zero), Vector512.Create(0.5), zero));
        var deadPrice = discount * intrinsic;
        var deadDelta = sign * discount * deltaFactor;
        var deadTheta = rate * deadPrice;

        var nan = Vector512.Create(double.NaN);
        var p = Vector512.ConditionalSelect(live, livePrice, deadPrice);
        price = Vector512.ConditionalSelect(valid, p, nan);
        delta = Vector512.ConditionalSelect(valid, Vector512.ConditionalSelect(live, liveDelta, deadDelta), nan);
        gamma = Vector512.ConditionalSelect(valid, Vector512.ConditionalSelect(live, liveGamma, zero), nan);
        vega = Vector512.ConditionalSelect(valid, Vector512.ConditionalSelect(live, liveVega, zero), nan);
        theta = Vector512.ConditionalSelect(valid, Vector512.ConditionalSelect(live, liveTheta, deadTheta), nan);
        rho = Vector512.ConditionalSelect(valid, -years * p, nan);
    }
}
