using System.Globalization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// <see cref="LanePoolKernel"/> on Helium (MVE): eight channels per VLDRB.S16 + VADD.I16 (sums), sixteen per
/// VLDRB.S8 + VMAX.S8 (maxima), the last channels predicated, so any channel count.
/// </summary>
internal sealed class HeliumPoolKernel : LanePoolKernel
{
    protected override bool Has(TargetDescription target) => target.HasMve;

    protected override bool TakesChannels(int channels) => true;

    protected override string Helper => "mtvm_mve_pool";

    protected override int Step(bool average) => average ? 8 : 16;

    protected override string Lanes(int channels, int step) =>
        channels % step != 0 ? $"{channels} - c" : step.ToString(CultureInfo.InvariantCulture);

    protected override string Accumulator(bool average) => average ? "mtvm_i16x8 sum = mtvm_pool_zero16();" : "mtvm_i8x16 m = mtvm_pool_min8();";

    protected override string Tap(bool average, string lanes) => average
        ? $"sum = mtvm_pool_add16(sum, p, {lanes});"
        : $"m = mtvm_pool_max8(m, p, {lanes});";

    protected override void Store(CodeWriter body, bool average, string count, int lo, int hi, string lanes) =>
        body.Line(average
            ? $"mtvm_pool_mean8(o + c, sum, {count}, {lo}, {hi}, {lanes});"
            : $"mtvm_pool_store8(o + c, m, {lo}, {hi}, {lanes});");
}
