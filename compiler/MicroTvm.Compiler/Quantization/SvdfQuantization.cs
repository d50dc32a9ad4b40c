using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// The two rescalings of TFLM's integer SVDF: the feature product goes to the activation state's scale
/// (input scale * weights_feature scale / state scale), the time product plus bias to the output's (state scale *
/// weights_time scale / output scale). TFLM forms both ratios in float32 (its scales are floats) and only then widens
/// them to double for QuantizeMultiplier; so do we.
/// </summary>
public sealed record SvdfQuantization(int InputZeroPoint, int StateZeroPoint, int OutputZeroPoint,
    int FeatureMultiplier, int FeatureShift, int OutputMultiplier, int OutputShift)
{
    public static SvdfQuantization Derive(Node node)
    {
        var input = node.Input(SvdfRules.Input);
        var feature = node.Input(SvdfRules.WeightsFeature);
        var time = node.Input(SvdfRules.WeightsTime);
        var state = node.Input(SvdfRules.State);
        var output = node.Output;
        var (qi, qf, qt, qs, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(feature), ConvQuantization.Require(time),
            ConvQuantization.Require(state), ConvQuantization.Require(output));
        float featureScale = qi.Scale * qf.Scale / qs.Scale;
        float outputScale = qs.Scale * qt.Scale / qo.Scale;
        var (m1, s1) = MultiplierRange.Multiplier(featureScale, MultiplierRange.MaxShift, "input scale * weights_feature scale / activation state scale", input, feature, state);
        var (m2, s2) = MultiplierRange.Multiplier(outputScale, MultiplierRange.MaxShift, "activation state scale * weights_time scale / output scale", state, time, output);
        return new SvdfQuantization(qi.ZeroPoint, qs.ZeroPoint, qo.ZeroPoint, m1, s1, m2, s2);
    }
}
