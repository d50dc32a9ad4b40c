using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// Operators that move elements without arithmetic: RESHAPE/SQUEEZE/EXPAND_DIMS, TRANSPOSE, CONCATENATION, PAD/PADV2,
/// STRIDED_SLICE. They work on raw element bytes, so every element type is handled the same way.
/// </summary>
internal static class LayoutReference
{
    private static readonly ElementType[] MovableTypes =
        [ElementType.Float32, ElementType.Int8, ElementType.UInt8, ElementType.Int16, ElementType.Int32, ElementType.Int64, ElementType.Bool];

    private static void RequireSameType(Node node, Tensor input)
    {
        if (input.Type != node.Output.Type || !MovableTypes.Contains(input.Type)) throw ReferenceErrors.Unsupported(node);
    }

    /// <summary>RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes are unchanged.</summary>
    public static void Reshape(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        RequireSameType(node, input);
        if (input.ElementCount != output.ElementCount) throw ReferenceErrors.Unsupported(node);
        values.SetBytes(output, (byte[])values.Bytes(input).Clone());
    }

    /// <summary>TRANSPOSE: output dimension i is input dimension Permutation[i].</summary>
    public static void Transpose(Node node, TensorValues values)
    {
        var perm = node.AttributesAs<TransposeAttributes>().Permutation;
        var (input, output) = (node.Input(0), node.Output);
        RequireSameType(node, input);
        int size = input.Type.SizeInBytes();
        var inStrides = ShapeInference.RowMajorStrides(input.Shape);
        var source = values.Bytes(input);
        var result = new byte[output.ByteSize];
        var position = new int[output.Rank];
        for (long i = 0; i < output.ElementCount; i++)
        {
            long from = 0;
            for (int d = 0; d < output.Rank; d++) from += position[d] * inStrides[perm[d]];
            Array.Copy(source, from * size, result, i * size, size);
            for (int d = output.Rank - 1; d >= 0; d--)
            {
                if (++position[d] < output.Shape[d]) break;
                position[d] = 0;
            }
        }

        values.SetBytes(output, result);
    }

    /// <summary>
    /// CONCATENATION copies the stored values of every input along the axis. TFLite Micro does not requantize; the
    /// importer rejects quantized inputs whose scale or zero point differ from the output's (OperatorSupport).
    /// </summary>
    public static void Concatenation(Node node, TensorValues values)
    {
        var p = node.AttributesAs<ConcatenationAttributes>();
        var output = node.Output;
        if (p.Activation != FusedActivation.None) throw ReferenceErrors.Unsupported(node);
        foreach (var input in node.Inputs) RequireSameType(node, input ?? throw ReferenceErrors.Unsupported(node));
        int size = output.Type.SizeInBytes();
        long outer = 1;
        for (int d = 0; d < p.Axis; d++) outer *= output.Shape[d];
        var result = new byte[output.ByteSize];
        long written = 0;
        for (long o = 0; o < outer; o++)
        {
            foreach (var input in node.Inputs)
            {
                long block = input!.ElementCount / outer * size;
                Array.Copy(values.Bytes(input), o * block, result, written, block);
                written += block;
            }
        }

        values.SetBytes(output, result);
    }

    /// <summary>
    /// PAD and PADV2. The pad value is PADV2's scalar operand; for PAD it is 0, except for int8 where it is the output's
    /// zero point (TFLite Micro pads int16 with 0).
    /// </summary>
    public static void Pad(Node node, TensorValues values)
    {
        var p = node.AttributesAs<PadAttributes>();
        var (input, output) = (node.Input(0), node.Output);
        RequireSameType(node, input);
        if (input.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16 or ElementType.Int32)) throw ReferenceErrors.Unsupported(node);
        int size = input.Type.SizeInBytes();

        byte[] padValue;
        var constant = node.Inputs.Count > 1 ? node.Inputs[1] : null;
        if (constant is not null)
        {
            if (constant.Type != input.Type) throw ReferenceErrors.Unsupported(node);
            padValue = values.Bytes(constant)[..size];
        }
        else
        {
            padValue = new byte[size];
            if (input.Type == ElementType.Int8) padValue[0] = (byte)(sbyte)(output.Quantization?.ZeroPoint ?? 0);
        }

        var result = new byte[output.ByteSize];
        for (long i = 0; i < output.ElementCount; i++) Array.Copy(padValue, 0, result, i * size, size);

        var source = values.Bytes(input);
        var outStrides = ShapeInference.RowMajorStrides(output.Shape);
        var position = new int[input.Rank];
        for (long i = 0; i < input.ElementCount; i++)
        {
            long to = 0;
            for (int d = 0; d < input.Rank; d++) to += (position[d] + p.Before[d]) * outStrides[d];
            Array.Copy(source, i * size, result, to * size, size);
            for (int d = input.Rank - 1; d >= 0; d--)
            {
                if (++position[d] < input.Shape[d]) break;
                position[d] = 0;
            }
        }

        values.SetBytes(output, result);
    }

    /// <summary>
    /// STRIDED_SLICE with TFLite's index rules: negative indices count from the end, begin/end masks take the whole
    /// range, shrink-axis takes one element; an ellipsis stands for the full range of the dimensions it covers and a new
    /// axis inserts a size-1 dimension (neither changes which elements are read, nor their order).
    /// </summary>
    public static void StridedSlice(Node node, TensorValues values)
    {
        var p = node.AttributesAs<StridedSliceAttributes>();
        var (input, output) = (node.Input(0), node.Output);
        RequireSameType(node, input);
        var axes = ResolveSliceAxes(p, input.Rank);
        int size = input.Type.SizeInBytes();
        var inStrides = ShapeInference.RowMajorStrides(input.Shape);
        var source = values.Bytes(input);
        var result = new List<byte>();

        var starts = new int[input.Rank];
        var stops = new int[input.Rank];
        for (int d = 0; d < input.Rank; d++)
        {
            starts[d] = StartForAxis(axes[d], input.Shape[d]);
            stops[d] = StopForAxis(axes[d], input.Shape[d], starts[d]);
        }

        void Walk(int d, long offset)
        {
            if (d == input.Rank)
            {
                result.AddRange(source.AsSpan((int)(offset * size), size).ToArray());
                return;
            }

            int stride = axes[d].Stride;
            for (int i = starts[d]; stride > 0 ? i < stops[d] : i > stops[d]; i += stride)
                Walk(d + 1, offset + i * inStrides[d]);
        }

        if (input.Rank == 0) result.AddRange(source);
        else Walk(0, 0);
        if (result.Count != output.ByteSize)
            throw ReferenceErrors.Invalid(node, $"the slice has {result.Count / size} elements but the output {output} has {output.ElementCount}");
        values.SetBytes(output, result.ToArray());
    }

    /// <summary>One input dimension's slice: begin, end, stride and which of begin/end/shrink applies.</summary>
    internal readonly record struct SliceAxis(int Begin, int End, int Stride, bool BeginMask, bool EndMask, bool Shrink);

    internal static SliceAxis[] ResolveSliceAxes(StridedSliceAttributes p, int rank)
    {
        bool Bit(int mask, int i) => (mask & (1 << i)) != 0;
        var full = new SliceAxis(0, 0, 1, true, true, false);
        var axes = new List<SliceAxis>();
        int specs = p.Begin.Length;
        int realSpecs = Enumerable.Range(0, specs).Count(i => !Bit(p.NewAxisMask, i) && !Bit(p.EllipsisMask, i));
        for (int i = 0; i < specs; i++)
        {
            if (Bit(p.EllipsisMask, i))
            {
                for (int k = 0; k < rank - realSpecs && axes.Count < rank; k++) axes.Add(full);
                continue;
            }

            if (Bit(p.NewAxisMask, i)) continue;
            int end = p.Offset ? p.Begin[i] + p.End[i] : p.End[i];
            axes.Add(new SliceAxis(p.Begin[i], end, p.Strides[i], Bit(p.BeginMask, i), Bit(p.EndMask, i), Bit(p.ShrinkAxisMask, i)));
        }

        while (axes.Count < rank) axes.Add(full);
        return axes.Take(rank).ToArray();
    }

    internal static int StartForAxis(SliceAxis a, int axisSize)
    {
        if (axisSize == 0) return 0;
        long start = a.BeginMask ? (a.Stride > 0 ? int.MinValue : int.MaxValue) : a.Begin;
        if (start < 0) start += axisSize;
        return a.Stride > 0 ? (int)Math.Clamp(start, 0, axisSize) : (int)Math.Clamp(start, -1, axisSize - 1);
    }

    internal static int StopForAxis(SliceAxis a, int axisSize, int start)
    {
        if (axisSize == 0) return 0;
        if (a.Shrink) return start + 1;
        long stop = a.EndMask ? (a.Stride > 0 ? int.MaxValue : int.MinValue) : a.End;
        if (stop < 0) stop += axisSize;
        return a.Stride > 0 ? (int)Math.Clamp(stop, 0, axisSize) : (int)Math.Clamp(stop, -1, axisSize - 1);
    }
}
