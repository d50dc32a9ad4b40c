namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The float functions of the generated C (Codegen/CHelpers/mtvm_float_math.h), operation for operation, so that
/// the evaluator's float results are the generated code's bit for bit rather than the host C library's. Keep the two
/// equal: <c>FloatMathTests</c> compares them.
/// </summary>
internal static class FloatMath
{
    /// <summary>2^e for a normal exponent (-126 ≤ e ≤ 127).</summary>
    private static float Pow2(int e) => BitConverter.Int32BitsToSingle((e + 127) << 23);

    /// <summary>mtvm_exp_f32: x = k ln2 + r, degree-7 polynomial of exp(r), scaled by 2^k (split outside the normal exponents).</summary>
    public static float Exp(float x)
    {
        if (x > 88.7228394f) return Pow2(127) * 2.0f;
        if (x < -104.0f) return 0.0f;
        float k = x * 1.44269504f;
        int ki = (int)(k < 0.0f ? k - 0.5f : k + 0.5f);
        k = ki;
        float r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
        float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * (0.00138888889f + r * 0.000198412698f))))));
        if (ki > 127) return p * Pow2(ki - 1) * 2.0f;
        if (ki < -126) return p * Pow2(ki + 100) * Pow2(-100);
        return p * Pow2(ki);
    }

    /// <summary>mtvm_tanh_f32: (1 - e^-2|x|) / (1 + e^-2|x|), sign restored.</summary>
    public static float Tanh(float x)
    {
        float a = x < 0.0f ? -x : x;
        float t = Exp(-2.0f * a);
        float r = (1.0f - t) / (1.0f + t);
        return x < 0.0f ? -r : r;
    }
}
