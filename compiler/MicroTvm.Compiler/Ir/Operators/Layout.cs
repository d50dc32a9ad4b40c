using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Data movement (TRANSPOSE, CONCATENATION, PAD, PADV2, STRIDED_SLICE): constant operands that describe the
/// operation (permutation, paddings, slice bounds) become attributes.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Transpose = new()
    {
        Name = "TRANSPOSE", BuiltinCode = 39, Types = OperatorSupport.DataMovement, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            return (new TransposeAttributes(r.ConstantInts(1, "permutation")), r.Data(0));
        },
        InferShape = s =>
        {
            var input = s.Input(0).Shape;
            var perm = s.Attributes<TransposeAttributes>().Permutation;
            if (perm.Length != input.Length || perm.Any(p => p < 0 || p >= input.Length) || perm.Distinct().Count() != perm.Length)
                throw s.Fail(ErrorCodes.InvalidOperator, $"permutation {ShapeContext.Text(perm)} is not a permutation of the input's {input.Length} dimensions");
            return perm.Select(p => input[p]).ToArray();
        },
        Evaluate = LayoutReference.Transpose,
        Kernel = Layouts.Kernel,
    };

    public static readonly OpKind Concatenation = new()
    {
        Name = "CONCATENATION", BuiltinCode = 2, Types = OperatorSupport.DataMovement, AcceptsFusedActivation = false,
        Import = r =>
        {
            if (r.InputCount < 1) throw r.Error(ErrorCodes.InvalidOperator, "has no inputs");
            var o = r.Options(10 /* ConcatenationOptions */);
            var inputs = Enumerable.Range(0, r.InputCount).Select(i => (Tensor?)r.Required(i, $"input {i}")).ToArray();
            int axis = o?.Int32(0) ?? 0;
            int rank = inputs[0]!.Rank;
            if (axis < -rank || axis >= rank) throw r.Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {rank}");
            return (new ConcatenationAttributes(axis < 0 ? axis + rank : axis, r.Activation(o?.Int8(1) ?? 0)), inputs);
        },
        // TFLite Micro's CONCATENATION copies stored values; it refuses int8 inputs it would have to requantize, and
        // copies int16 ones whatever their quantization (tests/operators concatenation_i16_requant).
        CheckQuantization = (node, fail) =>
        {
            if (node.Output.Type != ElementType.Int8 || node.Output.Quantization is not { } outputQ) return;
            foreach (var operand in node.Inputs)
            {
                if (operand?.Quantization is { } inputQ && (inputQ.Scale != outputQ.Scale || inputQ.ZeroPoint != outputQ.ZeroPoint))
                    throw fail(ErrorCodes.InvalidQuantization,
                        $"input {operand} has quantization {inputQ}, the output {outputQ}; quantized CONCATENATION needs every input quantized exactly like its output (TFLite Micro does not requantize)");
            }
        },
        InferShape = s =>
        {
            var concat = s.Attributes<ConcatenationAttributes>();
            var first = s.Input(0).Shape;
            if (concat.Axis < 0 || concat.Axis >= first.Length)
                throw s.Fail(ErrorCodes.InvalidOperator, $"axis {concat.Axis} is outside the input rank {first.Length}");
            long total = 0;
            for (int i = 0; i < s.Node.Inputs.Count; i++)
            {
                var shape = s.Input(i).Shape;
                bool compatible = shape.Length == first.Length;
                for (int d = 0; compatible && d < shape.Length; d++)
                    compatible = d == concat.Axis || shape[d] == first[d];
                if (!compatible)
                    throw s.Fail(ErrorCodes.InvalidShape, $"input {i} {ShapeContext.Text(shape)} does not match input 0 {ShapeContext.Text(first)} outside axis {concat.Axis}");
                total += shape[concat.Axis];
            }

            var result = (int[])first.Clone();
            result[concat.Axis] = s.Narrow(total);
            return result;
        },
        Evaluate = LayoutReference.Concatenation,
        Kernel = Layouts.Kernel,
    };

    /// <summary>Pads with the zero point (0 for float32 and int32).</summary>
    public static readonly OpKind Pad = new()
    {
        Name = "PAD", BuiltinCode = 34, Types = OperatorSupport.DataMovement,
        Import = r => Layouts.ImportPad(r, withValue: false),
        InferShape = Layouts.PadShape,
        Evaluate = LayoutReference.Pad,
        Kernel = Layouts.Kernel,
    };

    /// <summary>Pads with a constant scalar value (input 1).</summary>
    public static readonly OpKind PadV2 = new()
    {
        Name = "PADV2", BuiltinCode = 60, Types = OperatorSupport.DataMovement,
        Import = r => Layouts.ImportPad(r, withValue: true),
        InferShape = s =>
        {
            if (s.Node.Inputs.Count > 1 && s.Node.Inputs[1] is { } value && value.ElementCount != 1)
                throw s.Fail(ErrorCodes.InvalidOperator, $"the padding value {value} must be a single element");
            return Layouts.PadShape(s);
        },
        Evaluate = LayoutReference.Pad,
        Kernel = Layouts.Kernel,
    };

    public static readonly OpKind StridedSlice = new()
    {
        Name = "STRIDED_SLICE", BuiltinCode = 45, Types = OperatorSupport.DataMovement.Append(ElementType.Bool).ToArray(), MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(4, 4);
            var o = r.Options(32 /* StridedSliceOptions */);
            return (new StridedSliceAttributes(
                r.ConstantInts(1, "begin"), r.ConstantInts(2, "end"), r.ConstantInts(3, "strides"),
                o?.Int32(0) ?? 0, o?.Int32(1) ?? 0, o?.Int32(2) ?? 0, o?.Int32(3) ?? 0, o?.Int32(4) ?? 0,
                o?.Bool(5) ?? false), r.Data(0));
        },
        InferShape = Layouts.StridedSliceShape,
        Evaluate = LayoutReference.StridedSlice,
        Kernel = Layouts.Kernel,
    };
}

file static class Layouts
{
    public static readonly Kernel Kernel = new LayoutKernel();

    public static (OpAttributes, Tensor?[]) ImportPad(OperandReader r, bool withValue)
    {
        if (withValue) r.Inputs(2, 3); else r.Inputs(2, 2);
        var input = r.Required(0, "input");
        var paddings = r.ConstantInts(1, "paddings");
        if (paddings.Length != 2 * input.Rank)
            throw r.Error(ErrorCodes.InvalidOperator, $"paddings have {paddings.Length} values; the input {input} needs {input.Rank}x2");
        var before = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d]).ToArray();
        var after = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d + 1]).ToArray();
        var operands = withValue ? new[] { input, r.Optional(2) } : new[] { input };
        return (new PadAttributes(before, after), operands);
    }

    public static int[] PadShape(ShapeContext s)
    {
        var pad = s.Attributes<PadAttributes>();
        var input = s.Input(0).Shape;
        if (pad.Before.Length != input.Length || pad.After.Length != input.Length)
            throw s.Fail(ErrorCodes.InvalidOperator, $"paddings have {pad.Before.Length} rows, the input {ShapeContext.Text(input)} has rank {input.Length}");
        var result = new int[input.Length];
        for (int d = 0; d < input.Length; d++)
        {
            if (pad.Before[d] < 0 || pad.After[d] < 0)
                throw s.Fail(ErrorCodes.InvalidOperator, $"padding of dimension {d} is negative ({pad.Before[d]}, {pad.After[d]})");
            result[d] = s.Narrow((long)input[d] + pad.Before[d] + pad.After[d]);
        }

        return result;
    }

    public static int[] StridedSliceShape(ShapeContext c)
    {
        var input = c.Input(0).Shape;
        var s = c.Attributes<StridedSliceAttributes>();
        if (s.EllipsisMask != 0 || s.NewAxisMask != 0)
            throw c.Fail(ErrorCodes.InvalidOperator, "ellipsis_mask and new_axis_mask are not supported");
        int rank = input.Length;
        if (s.Begin.Length != rank || s.End.Length != rank || s.Strides.Length != rank)
            throw c.Fail(ErrorCodes.InvalidOperator, $"begin/end/strides have {s.Begin.Length}/{s.End.Length}/{s.Strides.Length} entries, the input has rank {rank}");
        var result = new List<int>();
        for (int d = 0; d < rank; d++)
        {
            var (start, stop, stride) = ShapeInference.StridedSliceRange(input, s, d);
            if (stride == 0) throw c.Fail(ErrorCodes.InvalidOperator, $"stride of dimension {d} is 0");
            if ((s.ShrinkAxisMask & (1 << d)) != 0)
            {
                if (start < 0 || start >= input[d])
                    throw c.Fail(ErrorCodes.InvalidOperator, $"shrinks dimension {d} at index {s.Begin[d]}, outside its size {input[d]}");
                continue;
            }

            long size = stride > 0 ? (stop - start + stride - 1) / stride : (start - stop + (-stride) - 1) / -stride;
            result.Add((int)Math.Max(0, size));
        }

        return result.ToArray();
    }
}
