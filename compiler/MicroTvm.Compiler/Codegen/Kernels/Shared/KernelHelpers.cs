using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen.Kernels;

internal static class KernelHelpers
{
    /// <summary>Element type and per-tensor quantization as a kernel expects; null when fine.</summary>
    public static string? ExpectQuantized(Tensor tensor, string role, ElementType type)
    {
        if (tensor.Type != type) return $"{role} must be {type.DisplayName()}, is {tensor.Type.DisplayName()}";
        if (tensor.Quantization is null) return $"{role} has no quantization parameters";
        if (tensor.Quantization.IsPerChannel) return $"{role} must be quantized per tensor";
        return null;
    }

    public static string? ExpectFusedActivation(FusedActivation activation) =>
        activation is FusedActivation.None or FusedActivation.Relu or FusedActivation.Relu6 or FusedActivation.ReluN1To1
            ? null
            : $"fused activation {activation} is not supported";

    /// <summary>Statements clamping int32 <paramref name="variable"/> to [min, max].</summary>
    public static void Clamp(CodeWriter body, string variable, QuantizedRange range) => Clamp(body, variable, range.Min, range.Max);

    public static void Clamp(CodeWriter body, string variable, int min, int max)
    {
        body.Line($"if ({variable} < {CLiteral.Int(min)}) {variable} = {CLiteral.Int(min)};");
        body.Line($"if ({variable} > {CLiteral.Int(max)}) {variable} = {CLiteral.Int(max)};");
    }

    /// <summary>Clamps int32 <paramref name="variable"/> to <paramref name="range"/>, writing only the bounds that can
    /// bind (a comparison with INT32_MIN or INT32_MAX would always be false).</summary>
    public static void ClampInt32(CodeWriter body, string variable, QuantizedRange range)
    {
        if (range.Min > int.MinValue) body.Line($"if ({variable} < {CLiteral.Int(range.Min)}) {variable} = {CLiteral.Int(range.Min)};");
        if (range.Max < int.MaxValue) body.Line($"if ({variable} > {CLiteral.Int(range.Max)}) {variable} = {CLiteral.Int(range.Max)};");
    }

    /// <summary>A loop over <paramref name="count"/> elements whose body (<paramref name="element"/>(index expression))
    /// is written <paramref name="by"/> times per iteration, then once per remaining element: the loop's compare and
    /// branch are paid once per group.</summary>
    public static void UnrolledLoop(CodeWriter body, long count, int by, Action<string> element)
    {
        long whole = count / by * by;
        if (whole > 0)
            using (body.Block(whole == by ? "" : $"for (size_t i = 0; i < {whole}; i += {by})"))
                for (int k = 0; k < by; k++)
                    using (body.Block(""))
                        element(whole == by ? $"{k}" : k == 0 ? "i" : $"i + {k}");
        for (long i = whole; i < count; i++)
            using (body.Block(""))
                element($"{i}");
    }

    /// <summary>Clamp for float values exactly as TFLite's ActivationFunctionWithMinMax (max first, then min).</summary>
    public static string FloatClamp(string value, FusedActivation activation)
    {
        var range = ActivationRange.Float(activation);
        return $"mtvm_min_f32(mtvm_max_f32({value}, {CLiteral.Float(range.Min)}), {CLiteral.Float(range.Max)})";
    }

    /// <summary>Taps [first, end) of a filter whose origin is <paramref name="origin"/> that fall inside [0, size).</summary>
    public static (int First, int End) ValidTaps(int origin, int filterSize, int dilation, int size)
    {
        int first = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
        int end = Math.Min(filterSize, (size - origin + dilation - 1) / dilation);
        return (Math.Min(first, filterSize), Math.Max(end, 0));
    }

    /// <summary>" + v", " - |v|" or "" for 0: offsets read naturally in the generated C.</summary>
    public static string Plus(long value) => value switch
    {
        0 => "",
        > 0 => $" + {value}",
        _ => $" - {-value}",
    };

    /// <summary>" - v" (as <see cref="Plus"/> of -v).</summary>
    public static string Minus(long value) => Plus(-value);

    /// <summary>The int32 bias of an int8 convolution or fully connected node, zeros when it has none.</summary>
    public static int[] Int32Bias(Node node, int channels) => node.Bias is { } bias ? Decode.Int32(bias.Data!) : new int[channels];

    public static string Dims(Tensor t) => t.Type.DisplayName() + t.ShapeText;
}
