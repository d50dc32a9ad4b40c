using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// Operators that move elements without arithmetic (beyond TRANSPOSE/PAD/STRIDED_SLICE/CONCATENATION): constant
/// operands that describe the operation (begin/size, multiples, axes, block sizes, paddings, indices, shapes)
/// become attributes; each node becomes strided copies (<see cref="MovementAttributes.Plans"/>), run by the
/// evaluator and written as loops by <see cref="MovementKernel"/>. Types: those TFLite Micro's kernels accept; like them, these
/// copy stored values and check no quantization.
/// </summary>
public sealed partial class OpKind
{
    // The element types TFLite Micro's kernels accept (tests/operators/refused.txt lists the ones they refuse).
    private static readonly ElementType[] FloatInt8Types = { ElementType.Float32, ElementType.Int8 };
    private static readonly ElementType[] FloatInt8Int32Types = { ElementType.Float32, ElementType.Int8, ElementType.Int32 };
    private static readonly ElementType[] NumericTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };
    private static readonly ElementType[] SliceTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32, ElementType.Bool };

    public static readonly OpKind Slice = new()
    {
        Name = "SLICE", BuiltinCode = 65, Types = SliceTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(3, 3);
            var shape = r.Required(0, "input").Shape;
            var begin = r.ConstantInts(1, "begin");
            var size = r.ConstantInts(2, "size");
            if (begin.Length != shape.Length || size.Length != shape.Length)
                throw r.Error(ErrorCodes.InvalidOperator, $"begin and size have {begin.Length} and {size.Length} values; the input has rank {shape.Length}");
            for (int d = 0; d < shape.Length; d++)
            {
                if (size[d] == -1) size[d] = shape[d] - begin[d];
                if (begin[d] < 0 || size[d] < 0 || (long)begin[d] + size[d] > shape[d])
                    throw r.Error(ErrorCodes.InvalidOperator, $"slice of dimension {d} (begin {begin[d]}, size {size[d]}) is outside its size {shape[d]}");
            }

            return (new SliceAttributes(begin, size), r.Data(0));
        },
        InferShape = s => (int[])s.Attributes<SliceAttributes>().Size.Clone(),
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind Pack = new()
    {
        Name = "PACK", BuiltinCode = 83, Types = NumericTypes, MovesDataOnly = true,
        Import = r =>
        {
            var o = r.Options(59 /* PackOptions */);
            if (r.InputCount < 1) throw r.Error(ErrorCodes.InvalidOperator, "has no inputs");
            var inputs = Enumerable.Range(0, r.InputCount).Select(i => (Tensor?)r.Required(i, $"input {i}")).ToArray();
            int rank = inputs[0]!.Rank, axis = o?.Int32(1) ?? 0;
            if (axis < -(rank + 1) || axis > rank) throw r.Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside [-{rank + 1}, {rank}]");
            return (new PackAttributes(axis < 0 ? axis + rank + 1 : axis), inputs);
        },
        InferShape = s =>
        {
            var first = s.Input(0).Shape;
            for (int i = 1; i < s.Node.Inputs.Count; i++)
                if (!s.Input(i).Shape.AsSpan().SequenceEqual(first))
                    throw s.Fail(ErrorCodes.InvalidShape, $"input {i} {ShapeContext.Text(s.Input(i).Shape)} differs from input 0 {ShapeContext.Text(first)}");
            int axis = s.Attributes<PackAttributes>().Axis;
            return first.Take(axis).Append(s.Node.Inputs.Count).Concat(first.Skip(axis)).ToArray();
        },
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind ReverseV2 = new()
    {
        Name = "REVERSE_V2", BuiltinCode = 105, Types = SliceTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            int rank = r.Required(0, "input").Rank;
            var axes = new SortedSet<int>();
            foreach (int axis in r.ConstantInts(1, "axis"))
            {
                if (axis < -rank || axis >= rank) throw r.Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {rank}");
                axes.Add(axis < 0 ? axis + rank : axis);
            }

            return (new ReverseAttributes(axes.ToArray()), r.Data(0));
        },
        InferShape = s => (int[])s.Input(0).Shape.Clone(),
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind BroadcastTo = new()
    {
        Name = "BROADCAST_TO", BuiltinCode = 130, Types = SliceTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            return (new BroadcastToAttributes(r.ConstantInts(1, "shape")), r.Data(0));
        },
        InferShape = s =>
        {
            var (input, target) = (s.Input(0).Shape, s.Attributes<BroadcastToAttributes>().Shape);
            if (target.Length < input.Length || ShapeInference.Broadcast(input, target) is not { } b || !b.AsSpan().SequenceEqual(target))
                throw s.Fail(ErrorCodes.InvalidShape, $"cannot broadcast {ShapeContext.Text(input)} to {ShapeContext.Text(target)}");
            return (int[])target.Clone();
        },
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind Split = new()
    {
        Name = "SPLIT", BuiltinCode = 49, Types = NumericTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var input = r.Required(1, "input");
            var axis = Movements.Axis(r, r.ConstantInts(0, "axis"), input.Rank);
            int count = r.Options(35 /* SplitOptions */)?.Int32(0) ?? 0;
            if (count < 1 || input.Shape[axis] % count != 0)
                throw r.Error(ErrorCodes.InvalidOperator, $"cannot split dimension {axis} of size {input.Shape[axis]} into {count} equal parts");
            return (new SplitAttributes(axis, Enumerable.Repeat(input.Shape[axis] / count, count).ToArray()), new Tensor?[] { input });
        },
        InferShape = s => Movements.SplitShapes(s)[0],
        InferShapes = Movements.SplitShapes,
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind SplitV = new()
    {
        Name = "SPLIT_V", BuiltinCode = 102, Types = NumericTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(3, 3);
            var input = r.Required(0, "input");
            var axis = Movements.Axis(r, r.ConstantInts(2, "axis"), input.Rank);
            var sizes = r.ConstantInts(1, "size_splits");
            int unknown = Array.IndexOf(sizes, -1);
            if (unknown >= 0) sizes[unknown] = input.Shape[axis] - sizes.Where((_, i) => i != unknown).Sum();
            if (sizes.Length == 0 || sizes.Any(n => n < 0) || sizes.Sum() != input.Shape[axis])
                throw r.Error(ErrorCodes.InvalidOperator, $"size_splits do not add up to dimension {axis} of size {input.Shape[axis]}");
            return (new SplitAttributes(axis, sizes), r.Data(0));
        },
        InferShape = s => Movements.SplitShapes(s)[0],
        InferShapes = Movements.SplitShapes,
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind Unpack = new()
    {
        Name = "UNPACK", BuiltinCode = 88, Types = NumericTypes, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 1);
            var input = r.Required(0, "input");
            var o = r.Options(64 /* UnpackOptions */);
            var axis = Movements.Axis(r, new[] { o?.Int32(1) ?? 0 }, input.Rank);
            return (new SplitAttributes(axis, Enumerable.Repeat(1, input.Shape[axis]).ToArray()), r.Data(0));
        },
        InferShape = s => Movements.SplitShapes(s)[0],
        InferShapes = s => Movements.SplitShapes(s).Select(shape => shape.Where((_, d) => d != s.Attributes<SplitAttributes>().Axis).ToArray()).ToArray(),
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    /// <summary>float32 only (TFLite Micro's NEG has no other type).</summary>
    public static readonly OpKind Neg = new()
    {
        Name = "NEG", BuiltinCode = 59, Types = new[] { ElementType.Float32 },
        Import = r =>
        {
            r.Inputs(1, 1);
            return (NoAttributes.Instance, r.Data(0));
        },
        InferShape = s => (int[])s.Input(0).Shape.Clone(),
        Evaluate = SignReference.Neg,
        Kernel = Movements.Sign,
    };

    public static readonly OpKind DepthToSpace = Movements.Block("DEPTH_TO_SPACE", 5, 94 /* DepthToSpaceOptions */, toSpace: true);

    public static readonly OpKind SpaceToDepth = Movements.Block("SPACE_TO_DEPTH", 26, 19 /* SpaceToDepthOptions */, toSpace: false);

    public static readonly OpKind MirrorPad = new()
    {
        Name = "MIRROR_PAD", BuiltinCode = 100, Types = FloatInt8Types, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(77 /* MirrorPadOptions */);
            var input = r.Required(0, "input");
            var paddings = r.ConstantInts(1, "paddings");
            if (paddings.Length != 2 * input.Rank)
                throw r.Error(ErrorCodes.InvalidOperator, $"paddings have {paddings.Length} values; the input {input} needs {input.Rank}x2");
            bool symmetric = (o?.Int8(0) ?? 0) == 1;
            var before = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d]).ToArray();
            var after = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d + 1]).ToArray();
            for (int d = 0; d < input.Rank; d++)
            {
                int limit = symmetric ? input.Shape[d] : input.Shape[d] - 1;
                if (before[d] < 0 || after[d] < 0 || before[d] > limit || after[d] > limit)
                    throw r.Error(ErrorCodes.InvalidOperator, $"padding {before[d]}/{after[d]} of dimension {d} must lie in [0, {limit}] for {(symmetric ? "SYMMETRIC" : "REFLECT")} mode and size {input.Shape[d]}");
            }

            return (new MirrorPadAttributes(before, after, symmetric), r.Data(0));
        },
        InferShape = s =>
        {
            var m = s.Attributes<MirrorPadAttributes>();
            return s.Input(0).Shape.Select((n, d) => s.Narrow((long)n + m.Before[d] + m.After[d])).ToArray();
        },
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind SpaceToBatchNd = Movements.SpaceBatch("SPACE_TO_BATCH_ND", 38, toBatch: true);

    public static readonly OpKind BatchToSpaceNd = Movements.SpaceBatch("BATCH_TO_SPACE_ND", 37, toBatch: false);

    public static readonly OpKind Fill = new()
    {
        Name = "FILL", BuiltinCode = 94, Types = FloatInt8Int32Types, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var shape = r.ConstantInts(0, "dims");
            var value = r.Required(1, "value");
            if (value.ElementCount != 1) throw r.Error(ErrorCodes.InvalidOperator, $"the value {value} must be a single element");
            return (new FillAttributes(shape, Zeros: false), new Tensor?[] { value });
        },
        InferShape = s => (int[])s.Attributes<FillAttributes>().Shape.Clone(),
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };

    public static readonly OpKind ZerosLike = new()
    {
        Name = "ZEROS_LIKE", BuiltinCode = 93, Types = FloatInt8Int32Types, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 1);
            return (new FillAttributes(r.Required(0, "input").Shape, Zeros: true), r.Data(0));
        },
        InferShape = s => (int[])s.Input(0).Shape.Clone(),
        Evaluate = MovementReference.Evaluate,
        Kernel = Movements.Kernel,
    };
}

file static class Movements
{
    public static readonly Kernel Kernel = new MovementKernel();

    public static readonly Kernel Sign = new SignKernel();

    /// <summary>A single axis value in [-rank, rank), made non-negative.</summary>
    public static int Axis(OperandReader r, int[] values, int rank)
    {
        if (values.Length != 1 || values[0] < -rank || values[0] >= rank)
            throw r.Error(ErrorCodes.InvalidOperator, $"axis [{string.Join(",", values)}] must be one value in [-{rank}, {rank})");
        return values[0] < 0 ? values[0] + rank : values[0];
    }

    /// <summary>SPLIT/SPLIT_V/UNPACK: the input's shape with the axis cut into the pieces.</summary>
    public static int[][] SplitShapes(ShapeContext s)
    {
        var a = s.Attributes<SplitAttributes>();
        var input = s.Input(0).Shape;
        return a.Sizes.Select(size =>
        {
            var shape = (int[])input.Clone();
            shape[a.Axis] = size;
            return shape;
        }).ToArray();
    }

    public static OpKind Block(string name, int code, byte options, bool toSpace) => new()
    {
        Name = name, BuiltinCode = code, Types = new[] { ElementType.Float32, ElementType.Int8 }, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 1);
            int block = r.Options(options)?.Int32(0) ?? 0;
            if (block < 1) throw r.Error(ErrorCodes.InvalidOperator, $"block size {block} must be positive");
            return (new BlockAttributes(block, toSpace), r.Data(0));
        },
        InferShape = s =>
        {
            var shape = s.Rank(s.Input(0), 4);
            int b = s.Attributes<BlockAttributes>().BlockSize;
            if (toSpace)
            {
                if (shape[3] % (b * b) != 0) throw s.Fail(ErrorCodes.InvalidShape, $"depth {shape[3]} is not a multiple of the block size squared ({b * b})");
                return new[] { shape[0], s.Narrow((long)shape[1] * b), s.Narrow((long)shape[2] * b), shape[3] / (b * b) };
            }

            if (shape[1] % b != 0 || shape[2] % b != 0)
                throw s.Fail(ErrorCodes.InvalidShape, $"height {shape[1]} and width {shape[2]} must be multiples of the block size {b}");
            return new[] { shape[0], shape[1] / b, shape[2] / b, s.Narrow((long)shape[3] * b * b) };
        },
        Evaluate = MovementReference.Evaluate,
        Kernel = Kernel,
    };

    public static OpKind SpaceBatch(string name, int code, bool toBatch) => new()
    {
        Name = name, BuiltinCode = code, Types = new[] { ElementType.Float32, ElementType.Int8 }, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(3, 3);
            var input = r.Required(0, "input");
            var block = r.ConstantInts(1, "block_shape");
            var pads = r.ConstantInts(2, toBatch ? "paddings" : "crops");
            int spatial = input.Rank - 2;
            if (input.Rank is not (3 or 4) || block.Length != spatial || pads.Length != 2 * spatial || block.Any(b => b < 1) || pads.Any(p => p < 0))
                throw r.Error(ErrorCodes.InvalidOperator, $"needs a rank-3 or rank-4 input with one positive block size and two non-negative {(toBatch ? "paddings" : "crops")} per spatial dimension");
            var before = Enumerable.Range(0, spatial).Select(d => pads[2 * d]).ToArray();
            var after = Enumerable.Range(0, spatial).Select(d => pads[2 * d + 1]).ToArray();
            return (new SpaceBatchAttributes(block, before, after, toBatch), r.Data(0));
        },
        InferShape = s =>
        {
            var a = s.Attributes<SpaceBatchAttributes>();
            var shape = s.Input(0).Shape;
            var result = (int[])shape.Clone();
            long blocks = a.Block.Aggregate(1L, (x, b) => x * b);
            for (int d = 0; d < a.Block.Length; d++)
            {
                long size = toBatch ? (long)shape[d + 1] + a.Before[d] + a.After[d] : (long)shape[d + 1] * a.Block[d] - a.Before[d] - a.After[d];
                if (toBatch && size % a.Block[d] != 0)
                    throw s.Fail(ErrorCodes.InvalidShape, $"padded size {size} of dimension {d + 1} is not a multiple of the block size {a.Block[d]}");
                if (size <= 0) throw s.Fail(ErrorCodes.InvalidShape, $"dimension {d + 1} is cropped to {size}");
                result[d + 1] = s.Narrow(toBatch ? size / a.Block[d] : size);
            }

            if (!toBatch && shape[0] % blocks != 0)
                throw s.Fail(ErrorCodes.InvalidShape, $"batch {shape[0]} is not a multiple of the block count {blocks}");
            result[0] = s.Narrow(toBatch ? shape[0] * blocks : shape[0] / blocks);
            return result;
        },
        Evaluate = MovementReference.Evaluate,
        Kernel = Kernel,
    };
}
