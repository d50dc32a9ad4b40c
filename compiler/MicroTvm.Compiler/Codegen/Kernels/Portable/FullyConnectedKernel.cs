using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>FULLY_CONNECTED: int8 (per-tensor or per-channel weights) and float32. Weights [units, depth].</summary>
internal sealed class FullyConnectedKernel : Kernel
{
    /// <summary>The longest float input row held in locals: 16 values, half the FPU's 32 single registers.</summary>
    private const int FloatRowInRegisters = 16;

    public override string? Unsupported(Node node)
    {
        var a = node.AttributesAs<FullyConnectedAttributes>();
        var input = node.Input(0);
        var weights = node.Input(1);
        var bias = node.Bias;
        if (!weights.IsConstant) return "weights must be constant";
        if (bias is not null && !bias.IsConstant) return "bias must be constant";
        if (weights.Rank != 2) return "weights must have rank 2";
        if (input.ElementCount % weights.Shape[1] != 0) return "input size is not a multiple of the weights' depth";
        if (ExpectFusedActivation(a.Activation) is { } act) return act;
        if (input.Type == ElementType.Float32)
        {
            if (weights.Type != ElementType.Float32 || node.Output.Type != ElementType.Float32) return "float32 input needs float32 weights and output";
            if (bias is not null && bias.Type != ElementType.Float32) return "bias must be float32";
            return null;
        }

        if (input.Type is ElementType.Int8 or ElementType.Int16)
        {
            if (ExpectQuantized(input, "input", input.Type) is { } e1) return e1;
            if (ExpectQuantized(node.Output, "output", input.Type) is { } e2) return e2;
            if (weights.Type != ElementType.Int8 || weights.Quantization is null) return "the weights must be quantized int8";
            if (weights.Quantization.IsPerChannel && weights.Quantization.Scales.Count != weights.Shape[0]) return "per-channel weights need one scale per unit";
            if (weights.Quantization.ZeroPoints.Any(z => z != 0)) return "int8 weights must have zero point 0";
            if (input.Type == ElementType.Int8 && bias is not null && bias.Type != ElementType.Int32) return "bias must be int32";
            if (input.Type == ElementType.Int16)
            {
                if (input.Quantization!.ZeroPoint != 0) return "int16 input must have zero point 0";
                if (bias is not null && !Int16x8Accumulation.BiasTypes(node.Kind).Contains(bias.Type)) return $"bias of a 16x8 layer must be {Int16x8Accumulation.BiasTypesText(node.Kind)}";
            }

            return null;
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8, int16 with int8 weights, float32 are)";
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<FullyConnectedAttributes>();
        var weights = node.Input(1);
        var bias = node.Bias;
        int units = weights.Shape[0], depth = weights.Shape[1];
        long batches = node.Input(0).ElementCount / depth;
        var body = c.Body;
        string w = c.Constants.Tensor($"{c.Prefix}_weights", weights, $"operator {node.Index} weights {weights.Name} {Dims(weights)}");

        if (node.Input(0).Type == ElementType.Float32)
        {
            c.Support.Use("mtvm_minmax");
            string? b = bias is null ? null : c.Constants.Tensor($"{c.Prefix}_bias", bias, $"operator {node.Index} bias {bias.Name}");
            // A short input row goes into locals first (registers: the output may alias the input, so gcc could not
            // keep x[d] across the stores) and the row's products are unrolled: one load, one multiply and one add per
            // weight. Either way the sum starts at 0 and adds the products in TFLite's order, never fused (the SDK
            // compiles generated C with -ffp-contract=off).
            bool inRegisters = depth <= FloatRowInRegisters;
            using (body.Block($"for (int b = 0; b < {batches}; ++b)"))
            {
                if (inRegisters)
                    for (int d = 0; d < depth; d++) body.Line($"const float x{d} = {c.Input(0)}[b * {depth} + {d}];");
                else
                    body.Line($"const float* x = {c.Input(0)} + b * {depth};");
                using (body.Block($"for (int o = 0; o < {units}; ++o)"))
                {
                    body.Line($"const float* w = {w} + o * {depth};");
                    body.Line("float acc = 0.0f;");
                    if (inRegisters)
                        for (int d = 0; d < depth; d += 4)
                            body.Line(string.Join(" ", Enumerable.Range(d, Math.Min(4, depth - d)).Select(k => $"acc += x{k} * w[{k}];")));
                    else
                        body.Line($"for (int d = 0; d < {depth}; ++d) acc += x[d] * w[d];");
                    if (b is not null) body.Line($"acc += {b}[o];");
                    body.Line($"{c.Output()}[b * {units} + o] = {FloatClamp("acc", a.Activation)};");
                }
            }

            return;
        }

        var input = node.Input(0);
        var output = node.Output;
        if (input.Type == ElementType.Int16)
        {
            EmitInt16(c, a, weights, bias, units, depth, batches);
            return;
        }

        // int8: acc = sum((x - zx) * w) + bias = sum(x * w) + (bias - zx * sum(w)), the bracket folded per unit.
        int inputOffset = -input.Quantization!.ZeroPoint;
        var wv = Decode.Int8(weights.Data!);
        var bv = Int32Bias(node, units);
        var folded = new int[units];
        for (int o = 0; o < units; o++)
        {
            long sum = 0;
            for (int d = 0; d < depth; d++) sum += wv[o * depth + d];
            folded[o] = ConvQuantization.FoldInputZeroPoint(bv[o], -inputOffset, sum);
        }

        string corr = c.Constants.Int32($"{c.Prefix}_bias", folded, $"operator {node.Index} bias + input zero point correction per unit");
        var q = ConvQuantization.Derive(input, weights, output, units, a.Activation);
        var (mult, shift) = Requantization(c, q.OutputMultipliers, q.OutputShifts);
        c.Support.Use("mtvm_fixed_point");
        using (body.Block($"for (int b = 0; b < {batches}; ++b)"))
        {
            body.Line($"const int8_t* x = {c.Input(0)} + b * {depth};");
            using (body.Block($"for (int o = 0; o < {units}; ++o)"))
            {
                body.Line($"const int8_t* w = {w} + o * {depth};");
                body.Line($"int32_t acc = {corr}[o];");
                ConvolutionKernel.EmitDot(body, depth, d => $"(int32_t)x[{d}] * (int32_t)w[{d}]");
                body.Line($"acc = mtvm_mbqm(acc, {mult}, {shift}){Plus(q.OutputOffset)};");
                Clamp(body, "acc", q.Activation);
                body.Line($"{c.Output()}[b * {units} + o] = (int8_t)acc;");
            }
        }
    }

    /// <summary>16x8: int16 activations (zero point 0, nothing to fold), int8 weights, int64 accumulator.</summary>
    private static void EmitInt16(EmitContext c, FullyConnectedAttributes a, Tensor weights, Tensor? bias, int units, int depth, long batches)
    {
        var node = c.Node;
        var body = c.Body;
        string w = $"{c.Prefix}_weights";
        var arithmetic = Int16x8Accumulation.InInt64(node) ? ConvolutionKernel.Arithmetic.Int16Wide : ConvolutionKernel.Arithmetic.Int16Narrow;
        string? b = bias is null ? null : c.Constants.Tensor($"{c.Prefix}_bias", bias, $"operator {node.Index} bias {bias.Name}");
        var q = ConvQuantization.Derive(node.Input(0), weights, node.Output, units, a.Activation);
        var (mult, shift) = Requantization(c, q.OutputMultipliers, q.OutputShifts);
        using (body.Block($"for (int b = 0; b < {batches}; ++b)"))
        {
            body.Line($"const int16_t* x = {c.Input(0)} + b * {depth};");
            using (body.Block($"for (int o = 0; o < {units}; ++o)"))
            {
                body.Line($"const int8_t* w = {w} + o * {depth};");
                body.Line($"int64_t acc = {(arithmetic == ConvolutionKernel.Arithmetic.Int16Wide && b is not null ? $"{b}[o]" : "0")};");
                body.Line($"for (int d = 0; d < {depth}; ++d) acc += (int64_t)((int32_t)x[d] * (int32_t)w[d]);");
                string scaled = ConvolutionKernel.EmitScale(c, body, arithmetic, b, "o", mult, shift);
                body.Line($"int32_t y = {scaled}{Plus(q.OutputOffset)};");
                Clamp(body, "y", q.Activation);
                body.Line($"{c.Output()}[b * {units} + o] = (int16_t)y;");
            }
        }
    }

    /// <summary>The multiplier and shift as C expressions indexed by <c>o</c>: literals when every channel has the
    /// same, else arrays.</summary>
    internal static (string Multiplier, string Shift) Requantization(EmitContext c, int[] multipliers, int[] shifts, string index = "o")
    {
        if (multipliers.Distinct().Count() == 1 && shifts.Distinct().Count() == 1)
            return (CLiteral.Int(multipliers[0]), CLiteral.Int(shifts[0]));
        string m = c.Constants.Int32($"{c.Prefix}_multiplier", multipliers, $"operator {c.Node.Index} requantization multiplier per channel");
        string s = c.Constants.Int8($"{c.Prefix}_shift", shifts.Select(v => (sbyte)v).ToArray(), $"operator {c.Node.Index} requantization shift per channel");
        return ($"{m}[{index}]", $"{s}[{index}]");
    }
}
