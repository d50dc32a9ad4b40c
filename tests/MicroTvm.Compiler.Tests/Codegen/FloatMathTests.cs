using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The generated C's float functions (mtvm_float_math.h) built by the host gcc, against the evaluator's mirror
/// (<see cref="FloatMath"/>) bit for bit, and against the C library (glibc, as TFLM's std::exp, std::log, ... on the
/// host) within an ulp or two, exactly for sqrt/floor/ceil/round — including exp's denormal results below -87.3,
/// +inf above the float range, and sin/cos of huge arguments.
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class FloatMathTests
{
    /// <summary>Every 1021st float bit pattern, both signs (NaNs skipped), and every float in [-104.5, -86] and [88, 89].</summary>
    private static float[] Inputs()
    {
        var inputs = new List<float>();
        for (long bits = 0; bits <= uint.MaxValue; bits += 1021)
        {
            float x = BitConverter.Int32BitsToSingle(unchecked((int)(uint)bits));
            if (!float.IsNaN(x)) inputs.Add(x);
        }

        for (float x = -104.5f; x <= -86f; x = MathF.BitIncrement(x)) if (BitConverter.SingleToInt32Bits(x) % 7 == 0) inputs.Add(x);
        for (float x = 88f; x <= 89f; x = MathF.BitIncrement(x)) if (BitConverter.SingleToInt32Bits(x) % 7 == 0) inputs.Add(x);
        for (int k = -4000; k <= 4000; k++) inputs.Add(k / 4f);                          // integers and ties for floor, ceil, round
        for (int k = 1; k < 100000; k++) inputs.Add(k * 3.1415926535f / 4f);              // sin/cos near multiples of pi/4 and pi/2
        return inputs.ToArray();
    }

    /// <summary>Each function of mtvm_float_math.h: its C name, the evaluator's mirror, the C library's function and
    /// how many ulp from it the result may be (0: exact, as IEEE's sqrt, floor and ceil; ROUND is TFLite's, ties to even).</summary>
    private static readonly (string C, Func<float, float> Mirror, string Libm, int Ulp)[] Functions =
    {
        ("mtvm_exp_f32", FloatMath.Exp, "expf", 2),
        ("mtvm_tanh_f32", FloatMath.Tanh, "tanhf", int.MaxValue), // (1 - e^-2x) / (1 + e^-2x): not within ulp of tanhf near 0
        ("mtvm_expm1_f32", FloatMath.Expm1, "expm1f", 1),
        ("mtvm_log_f32", FloatMath.Log, "logf", 1),
        ("mtvm_sin_f32", FloatMath.Sin, "sinf", 1),
        ("mtvm_cos_f32", FloatMath.Cos, "cosf", 1),
        ("mtvm_sqrt_f32", FloatMath.Sqrt, "sqrtf", 0),
        ("mtvm_floor_f32", FloatMath.Floor, "floorf", 0),
        ("mtvm_ceil_f32", FloatMath.Ceil, "ceilf", 0),
        ("mtvm_round_half_even_f32", FloatMath.RoundHalfEven, "rintf", 0),
    };

    [Fact]
    public void GeneratedCAndEvaluatorAgreeBitForBitAndStayWithinAnUlpOrTwoOfTheCLibrary()
    {
        var dir = Gcc.TemporaryDirectory("float-math");
        foreach (var helper in SupportLibrary.Helpers.Value.Values) File.WriteAllText(Path.Combine(dir, helper.Name + ".h"), helper.Source);
        int n = Functions.Length;
        string calls = string.Join(" ", Functions.Select((f, k) => $"y[{k}] = {f.C}(x); y[{n + k}] = {f.Libm}(x);"));
        File.WriteAllText(Path.Combine(dir, "main.c"), $$"""
            #include <math.h>
            #include <stdio.h>
            #include "mtvm_float_math.h"
            int main(void) {
                FILE *in = fopen("in.bin", "rb"), *out = fopen("out.bin", "wb");
                float x, y[{{2 * n}}];
                if (!in || !out) return 2;
                while (fread(&x, sizeof x, 1, in) == 1) {
                    {{calls}}
                    fwrite(y, sizeof y[0], {{2 * n}}, out);
                }
                return fclose(out) != 0;
            }
            """);
        // -ffp-contract=off as the SDK compiles generated sources; the host has no FMA at the default -march anyway.
        var (built, diagnostics) = Gcc.Run("gcc", "-std=c99 -Wall -Wextra -Werror -O2 -ffp-contract=off main.c -o float-math -lm", dir);
        Assert.True(built == 0, diagnostics);
        var inputs = Inputs();
        File.WriteAllBytes(Path.Combine(dir, "in.bin"), inputs.SelectMany(BitConverter.GetBytes).ToArray());
        var (code, output) = Gcc.Run(Path.Combine(dir, "float-math"), "", dir);
        Assert.True(code == 0, output);
        var results = File.ReadAllBytes(Path.Combine(dir, "out.bin"));
        Assert.Equal(inputs.Length * 8 * n, results.Length);

        int denormals = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            float x = inputs[i];
            for (int k = 0; k < n; k++)
            {
                var (name, mirror, libmName, allowed) = Functions[k];
                float c = BitConverter.ToSingle(results, 4 * (2 * n * i + k)), libm = BitConverter.ToSingle(results, 4 * (2 * n * i + n + k));
                Assert.True(BitConverter.SingleToInt32Bits(c) == BitConverter.SingleToInt32Bits(mirror(x)), $"{name}({x:R}): C {c:R}, evaluator {mirror(x):R}");
                // TFLite's ROUND gives +0 where rintf gives -0 (it adds 1 to floor); NaN bits differ among C libraries.
                if (float.IsNaN(libm) || (libmName == "rintf" && libm == 0)) { Assert.True(float.IsNaN(c) == float.IsNaN(libm), $"{name}({x:R}) = {c:R}, {libmName} gives {libm:R}"); continue; }
                long ulp = Math.Abs(Ordered(c) - Ordered(libm));
                Assert.True(ulp <= allowed, $"{name}({x:R}) = {c:R}, {libmName} gives {libm:R}: {ulp} ulp apart");
                if (k == 0 && float.IsSubnormal(c)) denormals++;
            }
        }

        Assert.True(denormals > 1000, $"only {denormals} denormal results of exp were checked");
    }

    /// <summary>Float bits on a line where adjacent floats are adjacent integers (-0 and +0 both 0).</summary>
    private static long Ordered(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        return bits < 0 ? -(long)(bits & int.MaxValue) : bits;
    }
}
