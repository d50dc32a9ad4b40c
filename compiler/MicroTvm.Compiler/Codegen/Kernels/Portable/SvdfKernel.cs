using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// SVDF (see <see cref="Reference.SvdfReference"/> for the arithmetic): the activation state is the operator's
/// variable input, written in place. The integer kernel folds the zero points into per-filter and per-unit constants
/// (Σ w·(x - zx) = Σ w·x - zx·Σ w, the same int32 value modulo 2^32), and sums each unit's time products as one run
/// of rank x memory elements: a unit's filters are adjacent rows of weights_time and of the state.
/// </summary>
internal sealed class SvdfKernel : Kernel
{
    public override string? Unsupported(Node node) => SvdfRules.Unsupported(node);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var g = SvdfRules.Dimensions(node);
        var state = node.Input(SvdfRules.State);
        string s = c.Input(SvdfRules.State);
        var body = c.Body;
        long perBatch = (long)g.Filters * g.Memory;
        long elements = g.Batches * perBatch;
        c.Support.UseMemcpy();
        body.Line("/* The state moves one element to the left: each filter's oldest entry falls out, its newest column frees up. */");
        if (elements > 1) body.Line($"memmove({s}, {s} + 1, {(elements - 1) * state.Type.SizeInBytes()});");
        if (node.Input(SvdfRules.Input).Type == ElementType.Float32) EmitFloat(c, g, s, perBatch);
        else EmitInteger(c, g, s, perBatch);
    }

    private static void EmitInteger(EmitContext c, SvdfRules.Geometry g, string s, long perBatch)
    {
        var node = c.Node;
        var body = c.Body;
        var q = SvdfQuantization.Derive(node);
        var stateType = node.Input(SvdfRules.State).Type;
        string t = stateType.CType();
        var stateRange = QuantizedRange.Of(stateType);
        var feature = node.Input(SvdfRules.WeightsFeature);
        var time = node.Input(SvdfRules.WeightsTime);
        int run = g.Rank * g.Memory;
        string w1 = c.Constants.Tensor($"{c.Prefix}_weights_feature", feature, $"operator {node.Index} weights_feature {feature.Name} {Dims(feature)}");
        string w2 = c.Constants.Tensor($"{c.Prefix}_weights_time", time, $"operator {node.Index} weights_time {time.Name} {Dims(time)}");
        var (fold1, fold2) = DeclareFolds(c, g, q);
        c.Support.Use("mtvm_fixed_point");

        body.Line($"/* Each filter's newest entry: weights_feature . input at the state's scale; TFLM clamps to the {stateType.DisplayName()} range,");
        body.Line("   then adds the zero point (the sum wraps as a C conversion on every target compiler does). */");
        using (body.Block($"for (int b = 0; b < {g.Batches}; ++b)"))
        {
            body.Line($"const int8_t* x = {c.Input(SvdfRules.Input)} + b * {g.InputSize};");
            body.Line($"{t}* newest = {s} + b * {perBatch} + {g.Memory - 1};");
            using (body.Block($"for (int f = 0; f < {g.Filters}; ++f)"))
            {
                body.Line($"const int8_t* w = {w1} + f * {g.InputSize};");
                body.Line($"int32_t acc = {fold1}[f];");
                body.Line($"for (int i = 0; i < {g.InputSize}; ++i) acc += (int32_t)x[i] * (int32_t)w[i];");
                body.Line($"acc = mtvm_mbqm(acc, {q.FeatureMultiplier}, {q.FeatureShift});");
                Clamp(body, "acc", stateRange);
                body.Line($"newest[f * {g.Memory}] = ({t})(acc{Plus(q.StateZeroPoint)});");
            }
        }

        body.Line("/* Each unit: bias plus the time products of its rank filters, at the output's scale; no fused activation (as TFLM). */");
        using (body.Block($"for (int b = 0; b < {g.Batches}; ++b)"))
        {
            using (body.Block($"for (int u = 0; u < {g.Units}; ++u)"))
            {
                body.Line($"const {t}* w = {w2} + u * {run};");
                body.Line($"const {t}* state = {s} + b * {perBatch} + u * {run};");
                body.Line($"int32_t acc = {fold2}[u];");
                if (stateType == ElementType.Int16)
                {
                    // int16 x int16 products fit an int32, their sum need not: it wraps, as TFLM's int32 sum does in
                    // practice, through uint32 (defined in C; the conversion back is modulo 2^32 on every target compiler).
                    body.Line($"uint32_t sum = (uint32_t)acc;");
                    body.Line($"for (int k = 0; k < {run}; ++k) sum += (uint32_t)((int32_t)w[k] * (int32_t)state[k]);");
                    body.Line("acc = (int32_t)sum;");
                }
                else
                {
                    body.Line($"for (int k = 0; k < {run}; ++k) acc += (int32_t)w[k] * (int32_t)state[k];");
                }
                body.Line($"acc = mtvm_mbqm(acc, {q.OutputMultiplier}, {q.OutputShift}){Plus(q.OutputZeroPoint)};");
                Clamp(body, "acc", QuantizedRange.Of(ElementType.Int8));
                body.Line($"{c.Output()}[b * {g.Units} + u] = (int8_t)acc;");
            }
        }
    }

    /// <summary>The zero-point folds of an integer SVDF as constants: per filter -input zero point * sum of its
    /// weights_feature, per unit bias - state zero point * sum of its weights_time.</summary>
    internal static (string Feature, string Unit) DeclareFolds(EmitContext c, SvdfRules.Geometry g, SvdfQuantization q)
    {
        var node = c.Node;
        var time = node.Input(SvdfRules.WeightsTime);
        var fv = Decode.Int8(node.Input(SvdfRules.WeightsFeature).Data!);
        var tv = time.Type == ElementType.Int8 ? Decode.Int8(time.Data!).Select(v => (int)v).ToArray() : Decode.Int16(time.Data!).Select(v => (int)v).ToArray();
        var bias = node.Inputs[SvdfRules.Bias] is { } b ? Decode.Int32(b.Data!) : new int[g.Units];
        var featureFold = new int[g.Filters];
        for (int f = 0; f < g.Filters; f++)
            featureFold[f] = ConvQuantization.FoldInputZeroPoint(0, q.InputZeroPoint, fv.Skip(f * g.InputSize).Take(g.InputSize).Sum(v => (long)v));
        int run = g.Rank * g.Memory;
        var unitFold = new int[g.Units];
        for (int u = 0; u < g.Units; u++)
            unitFold[u] = ConvQuantization.FoldInputZeroPoint(bias[u], q.StateZeroPoint, tv.Skip(u * run).Take(run).Sum(v => (long)v));
        return (c.Constants.Int32($"{c.Prefix}_feature_offset", featureFold, $"operator {node.Index} -input zero point * sum of each filter's weights_feature"),
            c.Constants.Int32($"{c.Prefix}_bias", unitFold, $"operator {node.Index} bias - state zero point * sum of each unit's weights_time"));
    }

    private static void EmitFloat(EmitContext c, SvdfRules.Geometry g, string s, long perBatch)
    {
        var node = c.Node;
        var body = c.Body;
        var feature = node.Input(SvdfRules.WeightsFeature);
        var time = node.Input(SvdfRules.WeightsTime);
        var activation = node.AttributesAs<SvdfAttributes>().Activation;
        string w1 = c.Constants.Tensor($"{c.Prefix}_weights_feature", feature, $"operator {node.Index} weights_feature {feature.Name} {Dims(feature)}");
        string w2 = c.Constants.Tensor($"{c.Prefix}_weights_time", time, $"operator {node.Index} weights_time {time.Name} {Dims(time)}");
        string? bias = node.Inputs[SvdfRules.Bias] is { } b ? c.Constants.Tensor($"{c.Prefix}_bias", b, $"operator {node.Index} bias {b.Name}") : null;
        using (body.Block($"for (int b = 0; b < {g.Batches}; ++b)"))
        {
            body.Line($"const float* x = {c.Input(SvdfRules.Input)} + b * {g.InputSize};");
            body.Line($"float* newest = {s} + b * {perBatch} + {g.Memory - 1};");
            using (body.Block($"for (int f = 0; f < {g.Filters}; ++f)"))
            {
                body.Line($"const float* w = {w1} + f * {g.InputSize};");
                body.Line("float acc = 0.0f;");
                body.Line($"for (int i = 0; i < {g.InputSize}; ++i) acc += w[i] * x[i];");
                body.Line($"newest[f * {g.Memory}] = acc;");
            }
        }

        // TFLM's order: each filter's time product on its own, then bias (or 0) plus the rank's products in turn.
        if (activation != FusedActivation.None) c.Support.Use("mtvm_minmax");
        using (body.Block($"for (int b = 0; b < {g.Batches}; ++b)"))
        {
            using (body.Block($"for (int u = 0; u < {g.Units}; ++u)"))
            {
                body.Line($"float acc = {(bias is null ? "0.0f" : $"{bias}[u]")};");
                using (body.Block($"for (int r = 0; r < {g.Rank}; ++r)"))
                {
                    body.Line($"const float* w = {w2} + (u * {g.Rank} + r) * {g.Memory};");
                    body.Line($"const float* state = {s} + b * {perBatch} + (u * {g.Rank} + r) * {g.Memory};");
                    body.Line("float product = 0.0f;");
                    body.Line($"for (int m = 0; m < {g.Memory}; ++m) product += w[m] * state[m];");
                    body.Line("acc += product;");
                }

                body.Line($"{c.Output()}[b * {g.Units} + u] = {(activation == FusedActivation.None ? "acc" : FloatClamp("acc", activation))};");
            }
        }
    }
}
