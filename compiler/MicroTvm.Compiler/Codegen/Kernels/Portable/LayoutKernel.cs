using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// Operators that only move elements: TRANSPOSE, CONCATENATION, PAD/PADV2, STRIDED_SLICE. Every index is known at
/// compile time, so each becomes loops with constant strides (contiguous runs as memcpy).
/// </summary>
internal sealed class LayoutKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var output = node.Output;
        foreach (var input in node.Inputs)
        {
            if (input is null) return "an input is missing";
            if (node.Kind == OpKind.PadV2 && input == node.Inputs[1]) continue;
            if (input.Type != output.Type) return "inputs and output must have the same element type";
        }

        switch (node.Attributes)
        {
            case ConcatenationAttributes concatenation:
                return concatenation.Activation == FusedActivation.None ? null : "a fused activation is not supported";
            case PadAttributes:
                if (output.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16 or ElementType.Int32)) return "element type must be float32, int8, int16 or int32";
                if (node.Kind == OpKind.PadV2 && (node.Inputs.Count < 2 || node.Inputs[1] is not { IsConstant: true } v || v.Type != output.Type))
                    return "the pad value must be a constant of the input's type";
                return null;
            default:
                return null;
        }
    }

    public override void Emit(EmitContext c)
    {
        switch (c.Node.Attributes)
        {
            case TransposeAttributes: EmitTranspose(c); break;
            case ConcatenationAttributes: EmitConcatenation(c); break;
            case StridedSliceAttributes: EmitStridedSlice(c); break;
            default: EmitPad(c); break;
        }
    }

    /// <summary>Nested loops over <paramref name="counts"/>; element i of the innermost body reads
    /// <c>source[Σ i_d·sourceStride_d + sourceOffset]</c> and writes the next output element.</summary>
    private static void EmitGather(EmitContext c, int[] counts, long[] sourceStrides, long sourceOffset, string source)
    {
        var body = c.Body;
        body.Line("size_t o = 0;");
        var scopes = new Stack<IDisposable>();
        string index = sourceOffset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int d = 0; d < counts.Length; d++)
        {
            if (counts[d] == 1) continue;
            scopes.Push(body.Block($"for (int i{d} = 0; i{d} < {counts[d]}; ++i{d})"));
            if (sourceStrides[d] != 0) index += $" + (ptrdiff_t)i{d} * {sourceStrides[d]}";
        }

        body.Line($"{c.Output()}[o++] = {source}[{index}];");
        while (scopes.Count > 0) scopes.Pop().Dispose();
    }

    private static void EmitTranspose(EmitContext c)
    {
        var node = c.Node;
        var perm = node.AttributesAs<TransposeAttributes>().Permutation;
        var inStrides = ShapeInference.RowMajorStrides(node.Input(0).Shape);
        EmitGather(c, node.Output.Shape, perm.Select(p => inStrides[p]).ToArray(), 0, c.Input(0));
    }

    private static void EmitStridedSlice(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        var p = node.AttributesAs<StridedSliceAttributes>();
        var axes = LayoutReference.ResolveSliceAxes(p, input.Rank);
        var inStrides = ShapeInference.RowMajorStrides(input.Shape);
        var counts = new int[input.Rank];
        var strides = new long[input.Rank];
        long offset = 0;
        for (int d = 0; d < input.Rank; d++)
        {
            int start = LayoutReference.StartForAxis(axes[d], input.Shape[d]);
            int stop = LayoutReference.StopForAxis(axes[d], input.Shape[d], start);
            int step = axes[d].Stride;
            counts[d] = Math.Max(0, step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step);
            strides[d] = step * inStrides[d];
            offset += start * inStrides[d];
        }

        if (counts.Aggregate(1L, (a, b) => a * b) != node.Output.ElementCount)
            throw new InvalidOperationException($"{node}: slice of {counts.Aggregate(1L, (a, b) => a * b)} elements for output {node.Output}");
        if (node.Output.ElementCount == 0) return;
        EmitGather(c, counts, strides, offset, c.Input(0));
    }

    private static void EmitConcatenation(EmitContext c)
    {
        var node = c.Node;
        var p = node.AttributesAs<ConcatenationAttributes>();
        var output = node.Output;
        long outer = 1;
        for (int d = 0; d < p.Axis; d++) outer *= output.Shape[d];
        int size = output.Type.SizeInBytes();
        var body = c.Body;
        long outBlock = output.ElementCount / Math.Max(1, outer);
        c.Support.UseMemcpy();
        using (body.Block($"for (size_t k = 0; k < {outer}; ++k)"))
        {
            long at = 0;
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                long block = node.Input(i).ElementCount / Math.Max(1, outer);
                if (block > 0)
                    body.Line($"memcpy({c.Output()} + k * {outBlock} + {at}, {c.Input(i)} + k * {block}, {block * size});");
                at += block;
            }
        }
    }

    private static void EmitPad(EmitContext c)
    {
        var node = c.Node;
        var p = node.AttributesAs<PadAttributes>();
        var input = node.Input(0);
        var output = node.Output;
        var body = c.Body;
        string t = output.Type.CType();
        string value;
        if (node.Kind == OpKind.PadV2)
        {
            value = $"{c.Input(1)}[0]";
        }
        else
        {
            value = output.Type == ElementType.Int8 ? (output.Quantization?.ZeroPoint ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
        }

        using (body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)"))
            body.Line($"{c.Output()}[i] = ({t}){value};");
        if (input.ElementCount == 0) return;

        // Copy the input row by row (its last dimension is contiguous in the output too).
        var outStrides = ShapeInference.RowMajorStrides(output.Shape);
        int rank = input.Rank;
        long offset = Enumerable.Range(0, rank).Sum(d => p.Before[d] * outStrides[d]);
        int row = rank == 0 ? 1 : input.Shape[rank - 1];
        c.Support.UseMemcpy();
        body.Line("size_t i = 0;");
        var scopes = new Stack<IDisposable>();
        string index = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int d = 0; d < rank - 1; d++)
        {
            if (input.Shape[d] == 1) continue;
            scopes.Push(body.Block($"for (int i{d} = 0; i{d} < {input.Shape[d]}; ++i{d})"));
            index += $" + (size_t)i{d} * {outStrides[d]}";
        }

        body.Line($"memcpy({c.Output()} + {index}, {c.Input(0)} + i, {row * output.Type.SizeInBytes()});");
        body.Line($"i += {row};");
        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
