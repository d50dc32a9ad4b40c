using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The generated C's float functions (mtvm_float_math.h) built by the host gcc, against the evaluator's mirror
/// (<see cref="FloatMath"/>) bit for bit, and against the C library's expf within a few ulp — including the
/// denormal results below -87.3 and +inf above the float range, which TFLM's std::exp gives.
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
        return inputs.ToArray();
    }

    [Fact]
    public void GeneratedCAndEvaluatorAgreeBitForBitAndStayWithinTwoUlpOfExpf()
    {
        var dir = Gcc.TemporaryDirectory("float-math");
        foreach (var helper in SupportLibrary.Helpers.Value.Values) File.WriteAllText(Path.Combine(dir, helper.Name + ".h"), helper.Source);
        File.WriteAllText(Path.Combine(dir, "main.c"), """
            #include <math.h>
            #include <stdio.h>
            #include "mtvm_float_math.h"
            int main(void) {
                FILE *in = fopen("in.bin", "rb"), *out = fopen("out.bin", "wb");
                float x, y[3];
                if (!in || !out) return 2;
                while (fread(&x, sizeof x, 1, in) == 1) {
                    y[0] = mtvm_exp_f32(x); y[1] = mtvm_tanh_f32(x); y[2] = expf(x);
                    fwrite(y, sizeof y[0], 3, out);
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
        Assert.Equal(inputs.Length * 12, results.Length);

        int worstUlp = 0, denormals = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            float x = inputs[i], exp = BitConverter.ToSingle(results, 12 * i), tanh = BitConverter.ToSingle(results, 12 * i + 4), libm = BitConverter.ToSingle(results, 12 * i + 8);
            Assert.True(BitConverter.SingleToInt32Bits(exp) == BitConverter.SingleToInt32Bits(FloatMath.Exp(x)), $"exp({x:R}): C {exp:R}, evaluator {FloatMath.Exp(x):R}");
            Assert.True(BitConverter.SingleToInt32Bits(tanh) == BitConverter.SingleToInt32Bits(FloatMath.Tanh(x)), $"tanh({x:R}): C {tanh:R}, evaluator {FloatMath.Tanh(x):R}");
            int ulp = Math.Abs(BitConverter.SingleToInt32Bits(exp) - BitConverter.SingleToInt32Bits(libm));
            Assert.True(ulp <= 2, $"exp({x:R}) = {exp:R}, expf gives {libm:R}: {ulp} ulp apart");
            worstUlp = Math.Max(worstUlp, ulp);
            if (float.IsSubnormal(exp)) denormals++;
        }

        Assert.True(denormals > 1000, $"only {denormals} denormal results were checked");
    }
}
