using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// FLOOR_DIV's and FLOOR_MOD's C arithmetic (mtvm_floor_div.h, no libm) built by the host gcc, against the evaluator
/// (<see cref="FloorDivReference"/>: Math.Floor and the float remainder) bit for bit and against the C library's floor
/// and fmodf, on random bit patterns of both signs (subnormals, zeros, infinities and NaN among them) and on pairs whose
/// exponents are far apart — what the oracle's few dozen values cannot reach.
/// </summary>
[Trait("Speed", "Slow")] // gcc
public class FloorDivTests
{
    private static (float X, float Y)[] Pairs()
    {
        var random = new Random(20261203);
        float Bits() => BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
        var special = new[] { 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -3e-39f, 1f, -1f, 0.5f, 3f, -7.25f, 1e30f, -1e38f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 16777216f, 4.5e15f };
        var pairs = new List<(float, float)>();
        foreach (var x in special) foreach (var y in special) pairs.Add((x, y));
        for (int i = 0; i < 200_000; i++) pairs.Add((Bits(), Bits()));
        for (int i = 0; i < 50_000; i++) pairs.Add(((float)((random.NextDouble() - 0.5) * 200), (float)((random.NextDouble() - 0.5) * 8)));
        return pairs.ToArray();
    }

    [Fact]
    public void GeneratedCEqualsTheEvaluatorAndTheCLibrary()
    {
        var dir = Gcc.TemporaryDirectory("floor-div");
        foreach (var helper in SupportLibrary.Helpers.Value.Values) File.WriteAllText(Path.Combine(dir, helper.Name + ".h"), helper.Source);
        File.WriteAllText(Path.Combine(dir, "main.c"), """
            #include <math.h>
            #include <stdio.h>
            #include "mtvm_floor_div.h"
            int main(void) {
                FILE *in = fopen("in.bin", "rb"), *out = fopen("out.bin", "wb");
                float xy[2], r[4];
                if (!in || !out) return 2;
                while (fread(xy, sizeof xy[0], 2, in) == 2) {
                    const double q = (double)xy[0] / (double)xy[1];
                    r[0] = (float)mtvm_floor_f64(q); r[1] = (float)floor(q);
                    r[2] = mtvm_fmod_f32(xy[0], xy[1]); r[3] = fmodf(xy[0], xy[1]);
                    fwrite(r, sizeof r[0], 4, out);
                }
                return fclose(out) != 0;
            }
            """);
        var (built, diagnostics) = Gcc.Run("gcc", "-std=c99 -Wall -Wextra -Wconversion -Wsign-conversion -Wpedantic -Werror -O2 -ffp-contract=off " +
            "-fsanitize=undefined -fno-sanitize-recover=all main.c -o floor-div -lm", dir);
        Assert.True(built == 0, diagnostics);
        var pairs = Pairs();
        File.WriteAllBytes(Path.Combine(dir, "in.bin"), pairs.SelectMany(p => BitConverter.GetBytes(p.X).Concat(BitConverter.GetBytes(p.Y))).ToArray());
        var (code, output) = Gcc.Run(Path.Combine(dir, "floor-div"), "", dir);
        Assert.True(code == 0, output);
        var results = File.ReadAllBytes(Path.Combine(dir, "out.bin"));
        Assert.Equal(pairs.Length * 16, results.Length);

        static bool Same(float a, float b) => (float.IsNaN(a) && float.IsNaN(b)) || BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);
        int finiteRemainders = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            var (x, y) = pairs[i];
            float floorC = BitConverter.ToSingle(results, 16 * i), floorLibm = BitConverter.ToSingle(results, 16 * i + 4);
            float fmodC = BitConverter.ToSingle(results, 16 * i + 8), fmodLibm = BitConverter.ToSingle(results, 16 * i + 12);
            Assert.True(Same(floorC, floorLibm), $"floor({x:R} / {y:R}): ours {floorC:R}, libm {floorLibm:R}");
            Assert.True(Same(floorC, FloorDivReference.Divide(x, y)), $"floor({x:R} / {y:R}): C {floorC:R}, evaluator {FloorDivReference.Divide(x, y):R}");
            Assert.True(Same(fmodC, fmodLibm), $"fmod({x:R}, {y:R}): ours {fmodC:R}, libm {fmodLibm:R}");
            Assert.True(Same(fmodC, x % y), $"fmod({x:R}, {y:R}): C {fmodC:R}, evaluator {x % y:R}");
            if (float.IsFinite(fmodC) && fmodC != 0) finiteRemainders++;
        }

        Assert.True(finiteRemainders > 100_000, $"only {finiteRemainders} non-zero remainders were checked");
    }
}
