namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Float → integer quantization (<see cref="AffineQuantization.Quantize"/>) as a step function of the float, so
/// generated code can find the result with compares instead of a division and rounding:
/// the result is <c>range.Min + (number of thresholds ≤ x)</c>, except for NaN and for the ends where adding the
/// zero point to the saturated integer wraps around (as it does in the reference arithmetic).
/// Every value here comes from calling <see cref="AffineQuantization.Quantize"/>; nothing re-derives it.
/// </summary>
/// <param name="Thresholds">Thresholds[j - 1] is the smallest float whose result is at least range.Min + j.</param>
/// <param name="WrapAbove">When not null: every x ≥ this gives <paramref name="AboveResult"/>.</param>
/// <param name="WrapBelow">When not null: every x ≤ this gives <paramref name="BelowResult"/>.</param>
public sealed record QuantizationThresholds(
    float[] Thresholds, int NanResult, float? WrapAbove, int AboveResult, float? WrapBelow, int BelowResult)
{
    /// <summary>
    /// The thresholds, or null when the search's premises do not hold for these parameters (then quantize directly).
    /// Premises: for a positive scale the quotient x / scale, its rounding and its saturating conversion to int are
    /// each non-decreasing in x, so the result is non-decreasing except where adding the zero point wraps; that can
    /// only happen where |x / scale| is near 2^31, far outside the core [-M, M] with M = scale · 2^24. Inside the
    /// core each threshold is found by a binary search over float bit patterns; above M the result stays at
    /// range.Max up to one point (the wrap) and is f(+inf) from there, and symmetrically below -M.
    /// </summary>
    public static QuantizationThresholds? Find(float scale, int zeroPoint, QuantizedRange range)
    {
        int F(float x) => AffineQuantization.Quantize(x, scale, zeroPoint, range);

        if (!(scale > 0) || !float.IsFinite(scale)) return null;
        float core = scale * 16777216f; // exact: a power-of-two multiple
        if (!float.IsFinite(core)) return null;
        if (F(-core) != range.Min || F(core) != range.Max) return null;
        if (F(0f) != F(-0f)) return null; // ±0 share one key below and compare equal in C

        long low = Key(-core), high = Key(core);
        var thresholds = new float[range.Max - range.Min];
        for (int j = 1; j <= thresholds.Length; j++)
        {
            int target = range.Min + j;
            thresholds[j - 1] = FromKey(FirstKey(low, high, k => F(FromKey(k)) >= target));
        }

        // Check the search's result at and one step below every threshold (cheap, and it guards the premises).
        for (int j = 1; j <= thresholds.Length; j++)
        {
            long k = Key(thresholds[j - 1]);
            if (F(FromKey(k)) < range.Min + j) return null;
            if (F(FromKey(k - 1)) >= range.Min + j) return null;
        }

        float? wrapAbove = null, wrapBelow = null;
        int above = F(float.PositiveInfinity), below = F(float.NegativeInfinity);
        if (above != range.Max)
        {
            long first = FirstKey(high, Key(float.PositiveInfinity), k => F(FromKey(k)) != range.Max);
            wrapAbove = FromKey(first);
            if (F(wrapAbove.Value) != above) return null;
        }

        if (below != range.Min)
        {
            // The last key whose result is not range.Min, searched from -inf upwards: first key with result Min, minus one.
            long firstMin = FirstKey(Key(float.NegativeInfinity), low, k => F(FromKey(k)) == range.Min);
            wrapBelow = FromKey(firstMin - 1);
            if (F(wrapBelow.Value) != below) return null;
        }

        // Generated C writes the thresholds as float literals: an infinite one (huge scales) has none.
        if (!thresholds.All(float.IsFinite) || wrapAbove is { } a && !float.IsFinite(a) || wrapBelow is { } b && !float.IsFinite(b)) return null;
        return new QuantizationThresholds(thresholds, F(float.NaN), wrapAbove, above, wrapBelow, below);
    }

    /// <summary>The smallest key in (<paramref name="falseKey"/>, <paramref name="trueKey"/>] where the predicate,
    /// false at falseKey and true at trueKey and monotonic between, holds.</summary>
    private static long FirstKey(long falseKey, long trueKey, Func<long, bool> predicate)
    {
        while (trueKey - falseKey > 1)
        {
            long middle = falseKey + (trueKey - falseKey) / 2;
            if (predicate(middle)) trueKey = middle; else falseKey = middle;
        }

        return trueKey;
    }

    /// <summary>Orders non-NaN floats as integers (−0 and +0 share key 0).</summary>
    private static long Key(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        return bits >= 0 ? bits : -(long)(bits & 0x7FFFFFFF);
    }

    private static float FromKey(long key) =>
        key >= 0 ? BitConverter.Int32BitsToSingle((int)key) : BitConverter.Int32BitsToSingle(unchecked((int)(0x80000000u | (uint)-key)));
}
