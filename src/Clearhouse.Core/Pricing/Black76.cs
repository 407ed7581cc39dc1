using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

/// <summary>
/// Black's 1976 model for a European option on a forward F (docs/pricing.md):
/// d1 = (ln(F/K) + σ²T/2)/(σ√T), d2 = d1 − σ√T, D = e^(−rT),
/// call = D·(F·Φ(d1) − K·Φ(d2)), put = D·(K·Φ(−d2) − F·Φ(−d1)).
/// Written once with θ = ±1 (call/put): V = θ·D·(F·Φ(θd1) − K·Φ(θd2)).
/// </summary>
/// <remarks>
/// <para>Only <see cref="DeterministicMath"/> and IEEE + − × ÷ √ are used, so every figure is the same on
/// every machine. The batch path (<see cref="PriceBatch"/>) runs the same operations four or
/// eight lanes at a time and is bit-identical to <see cref="Price"/>.</para>
/// <para>Edge cases: when σ√T is 0 (expired, or zero volatility, or so small that it underflows) the
/// option is worth D·max(θ(F − K), 0) with delta θ·D in the money, θ·D/2 at the money and 0 out of
/// it, gamma and vega 0, theta r·V and rho −T·V. The undiscounted value is floored at 0 (rounding
/// in F·Φ(d1) − K·Φ(d2) far out of the money can otherwise give −1e-17).</para>
/// </remarks>
public static partial class Black76
{
    /// <summary>Value and Greeks of one option; throws nothing (terms and market are already validated).</summary>
    public static OptionValuation Price(in OptionTerms terms, in BlackMarket market) =>
        Evaluate(terms.Sign, market.Forward, terms.Strike, terms.YearsToExpiry, market.Volatility, market.Rate);

    /// <summary>The value alone (same bits as <c>Price(...).Price</c>).</summary>
    public static double Value(in OptionTerms terms, in BlackMarket market) => Price(terms, market).Price;

    /// <summary>
    /// Value and Greeks from raw numbers, for callers that hold them unvalidated (e.g. a batch
    /// element): NaN in every field when an input is out of range (F or K not positive and finite,
    /// T or σ negative or not finite, r not finite, right neither call nor put).
    /// </summary>
    public static OptionValuation Evaluate(OptionRight right, double forward, double strike, double yearsToExpiry, double volatility, double rate) =>
        Evaluate(SignOf(right), forward, strike, yearsToExpiry, volatility, rate);

    /// <summary>The scalar kernel. Mirrors <see cref="EvaluateVector"/> operation for operation.</summary>
    internal static OptionValuation Evaluate(double sign, double forward, double strike, double years, double vol, double rate)
    {
        if (!(forward > 0.0 && forward < double.PositiveInfinity
              && strike > 0.0 && strike < double.PositiveInfinity
              && years >= 0.0 && years < double.PositiveInfinity
              && vol >= 0.0 && vol < double.PositiveInfinity
              && rate > double.NegativeInfinity && rate < double.PositiveInfinity
              && (sign == 1.0 || sign == -1.0)))
        {
            return OptionValuation.NaN;
        }

        double discount = DeterministicMath.Exp(-rate * years);
        double sqrtT = Math.Sqrt(years);
        double sd = vol * sqrtT;
        if (sd > 0.0)
        {
            double ratio = forward / strike;
            double lnFK = DeterministicMath.Ln(ratio);
            double d1 = lnFK / sd + 0.5 * sd;
            double d2 = d1 - sd;

            // e^(−d2²/2) = e^(−d1²/2)·F/K (since d2² = d1² − 2·ln(F/K)): one exponential for both Φ.
            double e1 = DeterministicMath.ExpMinusHalfSquare(DeterministicMath.ClampForPdf(d1));
            double pdf = DeterministicMath.InvSqrt2Pi * e1;
            double nd1 = DeterministicMath.NormalCdfGivenExp(sign * d1, e1);
            double nd2 = DeterministicMath.NormalCdfGivenExp(sign * d2, e1 * ratio);
            double undiscounted = sign * (forward * nd1 - strike * nd2);
            undiscounted = undiscounted > 0.0 ? undiscounted : 0.0;
            double price = discount * undiscounted;
            double dpdf = discount * pdf;
            return new OptionValuation(
                Price: price,
                Delta: sign * discount * nd1,
                Gamma: dpdf / (forward * sd),
                Vega: dpdf * forward * sqrtT,
                Theta: rate * price - dpdf * forward * vol / (2.0 * sqrtT),
                Rho: -years * price);
        }
        else
        {
            double moneyness = sign * (forward - strike);
            double intrinsic = moneyness > 0.0 ? moneyness : 0.0;
            double deltaFactor = moneyness > 0.0 ? 1.0 : moneyness == 0.0 ? 0.5 : 0.0;
            double price = discount * intrinsic;
            return new OptionValuation(
                Price: price,
                Delta: sign * discount * deltaFactor,
                Gamma: 0.0,
                Vega: 0.0,
                Theta: rate * price,
                Rho: -years * price);
        }
    }

    /// <summary>
    /// Prices a batch: element i of every input span describes option i, element i of every
    /// output span receives its figures. All spans must have the same length. Invalid elements
    /// give NaN (as <see cref="Evaluate(OptionRight, double, double, double, double, double)"/>).
    /// Uses the widest hardware vectors available (512 bits, else 256) and the scalar kernel
    /// otherwise and for the remainder; either way every output is bit-identical to the scalar kernel's.
    /// </summary>
    public static void PriceBatch(Black76BatchInput input, Black76BatchOutput output) =>
        PriceBatchWithWidth(input, output, Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0);

    /// <summary><see cref="PriceBatch"/> with at most <paramref name="vectorBits"/>-bit vectors (512, 256 or 0), for the tests.</summary>
    internal static void PriceBatchWithWidth(Black76BatchInput input, Black76BatchOutput output, int vectorBits)
    {
        int n = input.Length;
        output.EnsureLength(n);
        int i = 0;
        if (vectorBits >= 512 && Vector512.IsHardwareAccelerated)
        {
            i = PriceBatch512(input, output);
        }

        if (vectorBits >= 256 && Vector256.IsHardwareAccelerated)
        {
            i = PriceBatch256(input, output, i);
        }

        for (; i < n; i++)
        {
            var v = Evaluate(SignOf(input.Rights[i]), input.Forwards[i], input.Strikes[i], input.YearsToExpiry[i], input.Volatilities[i], input.Rates[i]);
            output.Prices[i] = v.Price;
            output.Deltas[i] = v.Delta;
            output.Gammas[i] = v.Gamma;
            output.Vegas[i] = v.Vega;
            output.Thetas[i] = v.Theta;
            output.Rhos[i] = v.Rho;
        }
    }

    /// <summary>Groups of four from <paramref name="start"/> while four remain; returns the first index not priced.</summary>
    private static int PriceBatch256(Black76BatchInput input, Black76BatchOutput output, int start)
    {
        // Lengths were checked by the caller (EnsureLength, i + 4 ≤ n): unchecked loads and stores.
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
        int i = start;
        for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
        {
            nuint at = (nuint)i;
            var sign = Vector256.Create(
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 1)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 2)),
                SignOf(Unsafe.Add(ref Unsafe.AsRef(in rights), i + 3)));
            EvaluateVector(
                sign,
                Vector256.LoadUnsafe(in forwards, at),
                Vector256.LoadUnsafe(in strikes, at),
                Vector256.LoadUnsafe(in years, at),
                Vector256.LoadUnsafe(in vols, at),
                Vector256.LoadUnsafe(in rates, at),
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

    /// <summary>Prices a batch with the scalar kernel only (the reference the vector path is tested against).</summary>
    public static void PriceBatchScalar(Black76BatchInput input, Black76BatchOutput output)
    {
        int n = input.Length;
        output.EnsureLength(n);
        for (int i = 0; i < n; i++)
        {
            var v = Evaluate(SignOf(input.Rights[i]), input.Forwards[i], input.Strikes[i], input.YearsToExpiry[i], input.Volatilities[i], input.Rates[i]);
            output.Prices[i] = v.Price;
            output.Deltas[i] = v.Delta;
            output.Gammas[i] = v.Gamma;
            output.Vegas[i] = v.Vega;
            output.Thetas[i] = v.Theta;
            output.Rhos[i] = v.Rho;
        }
    }

    internal static double SignOf(OptionRight right) => right switch
    {
        OptionRight.Call => 1.0,
        OptionRight.Put => -1.0,
        _ => double.NaN,
    };

    /// <summary>The four-lane kernel: <see cref="Evaluate(double, double, double, double, double, double)"/> with branches as selects.</summary>
    internal static void EvaluateVector(
        Vector256<double> sign,
        Vector256<double> forward,
        Vector256<double> strike,
        Vector256<double> years,
        Vector256<double> vol,
        Vector256<double> rate,
        out Vector256<double> price,
        out Vector256<double> delta,
        out Vector256<double> gamma,
        out Vector256<double> vega,
        out Vector256<double> theta,
        out Vector256<double> rho)
    {
        var zero = Vector256<double>.Zero;
        var inf = Vector256.Create(double.PositiveInfinity);
        var valid = Vector256.GreaterThan(forward, zero) & Vector256.LessThan(forward, inf)
            & Vector256.GreaterThan(strike, zero) & Vector256.LessThan(strike, inf)
            & Vector256.GreaterThanOrEqual(years, zero) & Vector256.LessThan(years, inf)
            & Vector256.GreaterThanOrEqual(vol, zero) & Vector256.LessThan(vol, inf)
            & Vector256.GreaterThan(rate, -inf) & Vector256.LessThan(rate, inf)
            & (Vector256.Equals(sign, Vector256.Create(1.0)) | Vector256.Equals(sign, Vector256.Create(-1.0)));

        var discount = DeterministicMathVector.Exp(-rate * years);
        var sqrtT = Vector256.Sqrt(years);
        var sd = vol * sqrtT;
        var live = Vector256.GreaterThan(sd, zero);

        // Lanes with σ√T > 0.
        var ratio = forward / strike;
        var lnFK = DeterministicMathVector.Ln(ratio);
        var d1 = lnFK / sd + Vector256.Create(0.5) * sd;
        var d2 = d1 - sd;
        var e1 = DeterministicMathVector.ExpMinusHalfSquare(DeterministicMathVector.ClampForPdf(d1));
        var pdf = Vector256.Create(DeterministicMath.InvSqrt2Pi) * e1;
        var nd1 = DeterministicMathVector.NormalCdfGivenExp(sign * d1, e1);
        var nd2 = DeterministicMathVector.NormalCdfGivenExp(sign * d2, e1 * ratio);
        var undiscounted = sign * (forward * nd1 - strike * nd2);
        undiscounted = Vector256.ConditionalSelect(Vector256.GreaterThan(undiscounted, zero), undiscounted, zero);
        var livePrice = discount * undiscounted;
        var dpdf = discount * pdf;
        var liveDelta = sign * discount * nd1;
        var liveGamma = dpdf / (forward * sd);
        var liveVega = dpdf * forward * sqrtT;
        var liveTheta = rate * livePrice - dpdf * forward * vol / (Vector256.Create(2.0) * sqrtT);

        // Lanes at intrinsic value.
        var moneyness = sign * (forward - strike);
        var itm = Vector256.GreaterThan(moneyness, zero);
        var intrinsic = Vector256.ConditionalSelect(itm, moneyness, zero);
        var deltaFactor = Vector256.ConditionalSelect(
            itm,
            Vector256.Create(1.0),
            Vector256.ConditionalSelect(Vector256.Equals(moneyness, zero), Vector256.Create(0.5), zero));
        var deadPrice = discount * intrinsic;
        var deadDelta = sign * discount * deltaFactor;
        var deadTheta = rate * deadPrice;

        var nan = Vector256.Create(double.NaN);
        var p = Vector256.ConditionalSelect(live, livePrice, deadPrice);
        price = Vector256.ConditionalSelect(valid, p, nan);
        delta = Vector256.ConditionalSelect(valid, Vector256.ConditionalSelect(live, liveDelta, deadDelta), nan);
        gamma = Vector256.ConditionalSelect(valid, Vector256.ConditionalSelect(live, liveGamma, zero), nan);
        vega = Vector256.ConditionalSelect(valid, Vector256.ConditionalSelect(live, liveVega, zero), nan);
        theta = Vector256.ConditionalSelect(valid, Vector256.ConditionalSelect(live, liveTheta, deadTheta), nan);
        rho = Vector256.ConditionalSelect(valid, -years * p, nan);
    }
}

/// <summary>
/// Inputs of <see cref="Black76.PriceBatch"/>, one span per field (structure of arrays, so that the
/// vector path loads four options' strikes in one instruction). All spans have the same length.
/// </summary>
public readonly ref struct Black76BatchInput
{
    public Black76BatchInput(
        ReadOnlySpan<OptionRight> rights,
        ReadOnlySpan<double> strikes,
        ReadOnlySpan<double> yearsToExpiry,
        ReadOnlySpan<double> forwards,
        ReadOnlySpan<double> volatilities,
        ReadOnlySpan<double> rates)
    {
        int n = rights.Length;
        if (strikes.Length != n || yearsToExpiry.Length != n || forwards.Length != n || volatilities.Length != n || rates.Length != n)
        {
            throw new ArgumentException("Every input span of a batch must have the same length.");
        }

        Rights = rights;
        Strikes = strikes;
        YearsToExpiry = yearsToExpiry;
        Forwards = forwards;
        Volatilities = volatilities;
        Rates = rates;
    }

    public ReadOnlySpan<OptionRight> Rights { get; }

    public ReadOnlySpan<double> Strikes { get; }

    public ReadOnlySpan<double> YearsToExpiry { get; }

    public ReadOnlySpan<double> Forwards { get; }

    public ReadOnlySpan<double> Volatilities { get; }

    public ReadOnlySpan<double> Rates { get; }

    public int Length => Rights.Length;
}

/// <summary>Outputs of <see cref="Black76.PriceBatch"/>: one span per figure, same conventions as <see cref="OptionValuation"/>.</summary>
public readonly ref struct Black76BatchOutput
{
    public Black76BatchOutput(Span<double> prices, Span<double> deltas, Span<double> gammas, Span<double> vegas, Span<double> thetas, Span<double> rhos)
    {
        Prices = prices;
        Deltas = deltas;
        Gammas = gammas;
        Vegas = vegas;
        Thetas = thetas;
        Rhos = rhos;
    }

    public Span<double> Prices { get; }

    public Span<double> Deltas { get; }

    public Span<double> Gammas { get; }

    public Span<double> Vegas { get; }

    public Span<double> Thetas { get; }

    public Span<double> Rhos { get; }

    internal void EnsureLength(int n)
    {
        if (Prices.Length < n || Deltas.Length < n || Gammas.Length < n || Vegas.Length < n || Thetas.Length < n || Rhos.Length < n)
        {
            throw new ArgumentException("Every output span of a batch must be at least as long as the inputs.");
        }
    }
}
