using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// GATHER and GATHER_ND (float32, int8; int32 indices, as TFLite Micro). GATHER with constant indices and no batch
/// dimensions is a data movement (<see cref="GatherAttributes"/>, checked at compile time); with indices computed at
/// run time (or batch_dims) the indices stay a node input and every one is range-checked as it is read: an index outside
/// the input makes the evaluator fail (MTVM2070) and the generated run return -2, never an out-of-bounds read.
/// GATHER_ND checks what TFLite Micro checks: that each slice's flat position lies inside the input.
/// </summary>
public sealed partial class OpKind
{
    public static readonly OpKind Gather = new()
    {
        Name = "GATHER", BuiltinCode = 36, Types = Gathers.Types, MovesDataOnly = true, ChecksAllOperandTypes = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(23 /* GatherOptions */);
            var input = r.Required(0, "input");
            var indices = r.Required(1, "indices");
            int axis = o?.Int32(0) ?? 0, batchDims = o?.Int32(1) ?? 0;
            if (axis < 0) axis += input.Rank;
            if (batchDims < 0) batchDims += indices.Rank;
            if (axis < 0 || axis >= input.Rank) throw r.Error(ErrorCodes.InvalidOperator, $"axis {o?.Int32(0) ?? 0} is outside the input rank {input.Rank}");
            if (batchDims < 0 || batchDims > axis || batchDims > indices.Rank || !input.Shape.Take(batchDims).SequenceEqual(indices.Shape.Take(batchDims)))
                throw r.Error(ErrorCodes.InvalidOperator, $"batch_dims {o?.Int32(1) ?? 0} must lie in [0, axis {axis}] and name leading dimensions the input {input} and the indices {indices} share");
            if (!r.IsConstant(1) || batchDims != 0)
                return (new IndexedGatherAttributes(axis, batchDims), new Tensor?[] { input, indices });
            var values = r.ConstantInts(1, "indices");
            foreach (int index in values)
                if (index < 0 || index >= input.Shape[axis])
                    throw r.Error(ErrorCodes.InvalidOperator, $"index {index} is outside dimension {axis} of size {input.Shape[axis]}");
            return (new GatherAttributes(axis, values, (int[])indices.Shape.Clone()), r.Data(0));
        },
        CheckTypes = Gathers.CheckTypes,
        InferShape = s =>
        {
            var input = s.Input(0).Shape;
            if (s.Node.Attributes is GatherAttributes g)
                return input.Take(g.Axis).Concat(g.IndicesShape).Concat(input.Skip(g.Axis + 1)).ToArray();
            var a = s.Attributes<IndexedGatherAttributes>();
            return input.Take(a.Axis).Concat(s.Input(1).Shape.Skip(a.BatchDims)).Concat(input.Skip(a.Axis + 1)).ToArray();
        },
        Evaluate = (node, values) =>
        {
            if (node.Attributes is GatherAttributes) MovementReference.Evaluate(node, values);
            else GatherReference.Gather(node, values);
        },
        Kernel = new GatherKernel(),
    };

    public static readonly OpKind GatherNd = new()
    {
        Name = "GATHER_ND", BuiltinCode = 107, Types = Gathers.Types, MovesDataOnly = true, ChecksAllOperandTypes = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var input = r.Required(0, "params");
            var indices = r.Required(1, "indices");
            if (input.Rank < 1 || indices.Rank < 1 || indices.Shape[^1] > input.Rank || indices.Shape[^1] > 5)
                throw r.Error(ErrorCodes.InvalidOperator, $"the indices {indices} must have a last dimension of at most 5 and at most the rank of the params {input}");
            // Offsets are summed in int64 from int32 indices: strides below 2^32 in total cannot overflow it.
            if (ShapeInference.RowMajorStrides(input.Shape).Take(indices.Shape[^1]).Sum() >= 1L << 32)
                throw r.Error(ErrorCodes.InvalidShape, $"the params {input} are too large to index");
            return (NoAttributes.Instance, new Tensor?[] { input, indices });
        },
        CheckTypes = Gathers.CheckTypes,
        InferShape = s =>
        {
            var (input, indices) = (s.Input(0).Shape, s.Input(1).Shape);
            return indices.Take(indices.Length - 1).Concat(input.Skip(indices[^1])).ToArray();
        },
        Evaluate = GatherReference.GatherNd,
        Kernel = new GatherKernel(),
    };
}

/// <summary>GATHER with its indices as input 1 (computed at run time, or with batch dimensions).</summary>
public sealed record IndexedGatherAttributes(int Axis, int BatchDims) : OpAttributes
{
    public override string Describe() => AttributeText.Join($"axis {Axis}", BatchDims == 0 ? "" : $"batch dims {BatchDims}", "run-time indices");
}

file static class Gathers
{
    public static readonly ElementType[] Types = { ElementType.Float32, ElementType.Int8 };

    public static string? CheckTypes(Node node)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (!Types.Contains(input.Type)) return $"input {input} has element type {input.Type.DisplayName()}";
        if (output.Type != input.Type) return $"output {output} has element type {output.Type.DisplayName()}, the input {input.Type.DisplayName()}";
        if (node.Inputs.Count > 1 && node.Input(1).Type != ElementType.Int32) return $"indices {node.Input(1)} have element type {node.Input(1).Type.DisplayName()} (TFLite Micro takes int32)";
        return null;
    }
}
