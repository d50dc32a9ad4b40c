using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// Reductions: MEAN, SUM, REDUCE_MAX, REDUCE_MIN (TFLite Micro's shared reduce code: constant axes, keep_dims),
/// ARG_MAX/ARG_MIN (one constant axis, int32 indices) and CUMSUM (one constant axis). The axes become attributes.
/// </summary>
public sealed partial class OpKind
{
    public static readonly OpKind Mean = Reducers.Reduce("MEAN", 40, ReduceOperation.Mean, OperatorSupport.Arithmetic);

    public static readonly OpKind Sum = Reducers.Reduce("SUM", 74, ReduceOperation.Sum, OperatorSupport.Arithmetic);

    /// <summary>int8 only with input and output quantized alike (TFLite Micro compares stored values).</summary>
    public static readonly OpKind ReduceMax = Reducers.Reduce("REDUCE_MAX", 82, ReduceOperation.Max, Reducers.FloatInt8);

    public static readonly OpKind ReduceMin = Reducers.Reduce("REDUCE_MIN", 89, ReduceOperation.Min, Reducers.FloatInt8);

    public static readonly OpKind ArgMax = Reducers.Arg("ARG_MAX", 56, 40 /* ArgMaxOptions */, max: true);

    public static readonly OpKind ArgMin = Reducers.Arg("ARG_MIN", 79, 57 /* ArgMinOptions */, max: false);

    /// <summary>float32 and int8 (TFLite Micro's CUMSUM has no other type).</summary>
    public static readonly OpKind CumSum = new()
    {
        Name = "CUMSUM", BuiltinCode = 128, Types = Reducers.FloatInt8,
        Import = r =>
        {
            r.Inputs(2, 2);
            var input = r.Required(0, "input");
            var o = r.Options(102 /* CumsumOptions */);
            return (new CumSumAttributes(Reducers.Axis(r, r.ConstantInts(1, "axis"), input.Rank), o?.Bool(0) ?? false, o?.Bool(1) ?? false), r.Data(0));
        },
        InferShape = s => s.SameAsInput(),
        Evaluate = CumSumReference.Evaluate,
        Kernel = new CumSumKernel(),
    };
}

/// <summary>What a reduction computes per output element.</summary>
public enum ReduceOperation
{
    Mean,
    Sum,
    Max,
    Min,
}

/// <summary>ARG_MAX/ARG_MIN. Inputs: [input]; <see cref="Axis"/> normalised to be non-negative.</summary>
public sealed record ArgAttributes(int Axis) : OpAttributes
{
    public override string Describe() => $"axis {Axis}";
}

/// <summary>CUMSUM. Inputs: [input]; <see cref="Axis"/> normalised to be non-negative.</summary>
public sealed record CumSumAttributes(int Axis, bool Exclusive, bool Reverse) : OpAttributes
{
    public override string Describe() => AttributeText.Join($"axis {Axis}", Exclusive ? "exclusive" : "", Reverse ? "reverse" : "");
}

file static class Reducers
{
    public static readonly ElementType[] FloatInt8 = { ElementType.Float32, ElementType.Int8 };

    private static readonly Kernel ReduceKernel = new ReduceKernel();

    public static OpKind Reduce(string name, int code, ReduceOperation operation, IReadOnlyList<ElementType> types) => new()
    {
        Name = name, BuiltinCode = code, Types = types,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(27 /* ReducerOptions */);
            int rank = r.Required(0, "input").Rank;
            var axes = new SortedSet<int>();
            foreach (int axis in r.ConstantInts(1, "axes"))
            {
                if (axis < -rank || axis >= rank) throw r.Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {rank}");
                axes.Add(axis < 0 ? axis + rank : axis);
            }

            return (new MeanAttributes(axes.ToArray(), o?.Bool(0) ?? false), r.Data(0));
        },
        InferShape = s =>
        {
            var reduce = s.Attributes<MeanAttributes>();
            var input = s.Input(0).Shape;
            var result = new List<int>();
            foreach (int axis in reduce.Axes)
                if (axis < 0 || axis >= input.Length)
                    throw s.Fail(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {input.Length}");
            for (int d = 0; d < input.Length; d++)
            {
                if (!reduce.Axes.Contains(d)) result.Add(input[d]);
                else if (reduce.KeepDims) result.Add(1);
            }

            return result.ToArray();
        },
        // TFLite Micro's int8 REDUCE_MAX/REDUCE_MIN compare stored values and refuse a requantizing output.
        CheckQuantization = operation is ReduceOperation.Max or ReduceOperation.Min ? SameQuantization : null,
        Evaluate = (node, values) => ReduceReference.Evaluate(node, values, operation),
        Kernel = ReduceKernel,
    };

    private static void SameQuantization(Node node, Func<string, string, CompilerException> fail)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Quantization is { } qi && output.Quantization is { } qo && (qi.Scale != qo.Scale || qi.ZeroPoint != qo.ZeroPoint))
            throw fail(ErrorCodes.InvalidQuantization,
                $"input {input} has quantization {qi}, the output {qo}; quantized {node.Kind.Name} needs the output quantized exactly like its input (TFLite Micro does not requantize)");
    }

    public static OpKind Arg(string name, int code, byte options, bool max) => new()
    {
        Name = name, BuiltinCode = code, Types = FloatInt8, TypesText = "float32, int8 (int32 output)", MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var input = r.Required(0, "input");
            r.Options(options); // output_type: TFLite Micro goes by the output tensor's type (int32 only)
            return (new ArgAttributes(Axis(r, r.ConstantInts(1, "axis"), input.Rank)), r.Data(0));
        },
        CheckTypes = node => node.Input(0).Type is not (ElementType.Float32 or ElementType.Int8)
            ? $"input {node.Input(0)} has element type {node.Input(0).Type.DisplayName()}"
            : node.Output.Type != ElementType.Int32 ? $"output {node.Output} has element type {node.Output.Type.DisplayName()}" : null,
        InferShape = s =>
        {
            var input = s.Input(0).Shape;
            int axis = s.Attributes<ArgAttributes>().Axis;
            return input.Where((_, d) => d != axis).ToArray();
        },
        Evaluate = (node, values) => ArgReference.Evaluate(node, values, max),
        Kernel = new ArgKernel(max),
    };

    /// <summary>A single axis value in [-rank, rank), made non-negative.</summary>
    public static int Axis(OperandReader r, int[] values, int rank)
    {
        if (values.Length != 1 || values[0] < -rank || values[0] >= rank)
            throw r.Error(ErrorCodes.InvalidOperator, $"axis [{string.Join(",", values)}] must be one value in [-{rank}, {rank})");
        return values[0] < 0 ? values[0] + rank : values[0];
    }
}
