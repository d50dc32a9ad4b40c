using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// SVDF as TFLM's reference kernels compute it (svdf_common.cc), updating the activation state in place:
/// 1. the state (per batch, filters x memory, row-major) moves one element to the left as one flat array;
/// 2. each filter's newest entry (its last column) becomes weights_feature · input; in int8 that product is
///    rescaled to the state's scale, clamped to the state type's range and stored plus the state's zero point, with
///    wrap-around (TFLM adds the zero point after the clamp);
/// 3. each filter's time product weights_time · (state - zero point), summed over the rank's filters of each unit,
///    plus the bias; in int8 rescaled to the output (+ its zero point) and clamped to int8 — TFLM applies no fused
///    activation there; in float32 the fused activation.
/// </summary>
internal static class SvdfReference
{
    public static void Svdf(Node node, TensorValues values)
    {
        if (SvdfRules.Unsupported(node) is not null) throw ReferenceErrors.Unsupported(node);
        var g = SvdfRules.Dimensions(node);
        if (node.Input(SvdfRules.Input).Type == ElementType.Float32) Float(node, values, g);
        else Integer(node, values, g);
    }

    private static void Integer(Node node, TensorValues values, SvdfRules.Geometry g)
    {
        var stateTensor = node.Input(SvdfRules.State);
        var q = SvdfQuantization.Derive(node);
        var stateRange = QuantizedRange.Of(stateTensor.Type);
        var x = values.Ints(node.Input(SvdfRules.Input));
        var feature = values.Ints(node.Input(SvdfRules.WeightsFeature));
        var time = values.Ints(node.Input(SvdfRules.WeightsTime));
        var bias = node.Inputs[SvdfRules.Bias] is { } b ? values.Ints(b) : null;
        var state = values.Ints(stateTensor);
        int perBatch = g.Filters * g.Memory;

        Array.Copy(state, 1, state, 0, state.Length - 1);
        for (int batch = 0; batch < g.Batches; batch++)
        {
            for (int f = 0; f < g.Filters; f++)
            {
                int dot = 0;
                for (int i = 0; i < g.InputSize; i++)
                    dot = unchecked(dot + feature[f * g.InputSize + i] * (x[batch * g.InputSize + i] - q.InputZeroPoint));
                dot = stateRange.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(dot, q.FeatureMultiplier, q.FeatureShift));
                state[batch * perBatch + f * g.Memory + g.Memory - 1] = Wrap(q.StateZeroPoint + dot, stateTensor.Type);
            }
        }

        var output = new int[g.Batches * g.Units];
        for (int batch = 0; batch < g.Batches; batch++)
        {
            for (int u = 0; u < g.Units; u++)
            {
                int acc = bias?[u] ?? 0;
                for (int r = 0; r < g.Rank; r++)
                {
                    int f = u * g.Rank + r, product = 0;
                    for (int m = 0; m < g.Memory; m++)
                        product = unchecked(product + time[f * g.Memory + m] * (state[batch * perBatch + f * g.Memory + m] - q.StateZeroPoint));
                    acc = unchecked(acc + product);
                }

                int scaled = FixedPoint.MultiplyByQuantizedMultiplier(acc, q.OutputMultiplier, q.OutputShift) + q.OutputZeroPoint;
                output[batch * g.Units + u] = QuantizedRange.Of(ElementType.Int8).Clamp(scaled);
            }
        }

        values.SetInts(stateTensor, state);
        values.SetInts(node.Output, output);
    }

    /// <summary>A value stored into an int8/int16 state element, wrapping as the C++ conversion does.</summary>
    private static int Wrap(int value, ElementType type) => type == ElementType.Int8 ? unchecked((sbyte)value) : unchecked((short)value);

    private static void Float(Node node, TensorValues values, SvdfRules.Geometry g)
    {
        var stateTensor = node.Input(SvdfRules.State);
        var x = values.Floats(node.Input(SvdfRules.Input));
        var feature = values.Floats(node.Input(SvdfRules.WeightsFeature));
        var time = values.Floats(node.Input(SvdfRules.WeightsTime));
        var bias = node.Inputs[SvdfRules.Bias] is { } b ? values.Floats(b) : null;
        var state = values.Floats(stateTensor);
        var activation = node.AttributesAs<SvdfAttributes>().Activation;
        var range = ActivationRange.Float(activation);
        int perBatch = g.Filters * g.Memory;

        Array.Copy(state, 1, state, 0, state.Length - 1);
        for (int batch = 0; batch < g.Batches; batch++)
        {
            for (int f = 0; f < g.Filters; f++)
            {
                float dot = 0f;
                for (int i = 0; i < g.InputSize; i++) dot += feature[f * g.InputSize + i] * x[batch * g.InputSize + i];
                state[batch * perBatch + f * g.Memory + g.Memory - 1] = dot;
            }
        }

        // TFLM: every filter's time product first, then bias (or 0) plus the rank's products in order, then the activation.
        var output = new float[g.Batches * g.Units];
        for (int batch = 0; batch < g.Batches; batch++)
        {
            for (int u = 0; u < g.Units; u++)
            {
                float acc = bias?[u] ?? 0f;
                for (int r = 0; r < g.Rank; r++)
                {
                    int f = u * g.Rank + r;
                    float product = 0f;
                    for (int m = 0; m < g.Memory; m++) product += time[f * g.Memory + m] * state[batch * perBatch + f * g.Memory + m];
                    acc += product;
                }

                output[batch * g.Units + u] = activation == FusedActivation.None ? acc : range.Clamp(acc);
            }
        }

        values.SetFloats(stateTensor, state);
        values.SetFloats(node.Output, output);
    }
}
