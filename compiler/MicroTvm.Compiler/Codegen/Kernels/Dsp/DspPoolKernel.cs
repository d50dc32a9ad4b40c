using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// <see cref="LanePoolKernel"/> with the DSP extension: four channels per word, sums in two int16 pairs by SXTAB16
/// (bytes 0/2 and, with its free ROR #8, 1/3: one instruction per two channels and tap), maxima bytewise by
/// SSUB8 + SEL. Reads whole words, so the channel count must be a multiple of 4.
/// </summary>
internal sealed class DspPoolKernel : LanePoolKernel
{
    protected override bool Has(TargetDescription target) => target.HasDsp;

    protected override bool TakesChannels(int channels) => channels % 4 == 0;

    protected override string Helper => "mtvm_dsp";

    protected override int Step(bool average) => 4;

    /// <summary>Four taps per iteration: 3 instructions a tap (LDR, two SXTAB16; LDR and SSUB8 + SEL) plus the loop's 3.</summary>
    protected override int TapsPerIteration => 4;

    protected override string Lanes(int channels, int step) => "4";

    protected override string Accumulator(bool average) => average ? "int32_t even = 0, odd = 0;" : "uint32_t m = 0x80808080u;";

    protected override string Tap(bool average, string lanes) => average
        ? "{ const uint32_t w = mtvm_load4(p); even = mtvm_sxtab16(even, w); odd = mtvm_sxtab16_ror8(odd, w); }"
        : "m = mtvm_max8(m, mtvm_load4(p));";

    protected override void Store(CodeWriter body, bool average, string count, int lo, int hi, string lanes)
    {
        if (average)
        {
            body.Line($"o[c] = mtvm_pool_mean(mtvm_lo16(even), {count}, {lo}, {hi});");
            body.Line($"o[c + 1] = mtvm_pool_mean(mtvm_lo16(odd), {count}, {lo}, {hi});");
            body.Line($"o[c + 2] = mtvm_pool_mean(mtvm_hi16(even), {count}, {lo}, {hi});");
            body.Line($"o[c + 3] = mtvm_pool_mean(mtvm_hi16(odd), {count}, {lo}, {hi});");
            return;
        }

        if (lo > -128) body.Line($"m = mtvm_max8(m, {CLiteral.Int(0x01010101u * (byte)(sbyte)lo)}u);");
        if (hi < 127) body.Line($"m = mtvm_min8(m, {CLiteral.Int(0x01010101u * (byte)(sbyte)hi)}u);");
        body.Line("memcpy(o + c, &m, 4);");
    }
}
