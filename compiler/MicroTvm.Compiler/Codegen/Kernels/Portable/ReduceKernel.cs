using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>MEAN, SUM, REDUCE_MAX, REDUCE_MIN over constant axes (see <see cref="Reference.ReduceReference"/>). For each
/// output element the reduced elements are visited in input row-major order (the reference's order, which matters for
/// float sums) into one accumulator; MEAN and SUM then divide or requantize. No scratch: the accumulator is a local.</summary>
internal sealed class ReduceKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (input.Type != output.Type) return "input and output must have the same element type";
        if (!node.Kind.Types.Contains(input.Type))
            return $"element type {input.Type.DisplayName()} is not supported ({node.Kind.TypesText} are)";
        if (input.Type == ElementType.Float32) return null;
        return ExpectQuantized(input, "input", input.Type) ?? ExpectQuantized(output, "output", input.Type);
    }

    private static ReduceOperation Operation(Node node) =>
        node.Kind == OpKind.Mean ? ReduceOperation.Mean : node.Kind == OpKind.Sum ? ReduceOperation.Sum
        : node.Kind == OpKind.ReduceMax ? ReduceOperation.Max : ReduceOperation.Min;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var p = node.AttributesAs<MeanAttributes>();
        var operation = Operation(node);
        var input = node.Input(0);
        var output = node.Output;
        int rank = input.Rank;
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= input.Shape[d];
        }

        var kept = Enumerable.Range(0, rank).Where(d => !p.Axes.Contains(d) && input.Shape[d] != 1).ToList();
        var reduced = Enumerable.Range(0, rank).Where(d => p.Axes.Contains(d) && input.Shape[d] != 1).ToList();
        long count = p.Axes.Aggregate(1L, (a, d) => a * input.Shape[d]);
        bool isFloat = input.Type == ElementType.Float32;
        var body = c.Body;
        body.Line("size_t o = 0;");
        var scopes = new Stack<IDisposable>();
        string baseIndex = "0";
        foreach (int d in kept)
        {
            scopes.Push(body.Block($"for (int k{d} = 0; k{d} < {input.Shape[d]}; ++k{d})"));
            baseIndex += $" + (size_t)k{d} * {strides[d]}";
        }

        string accType = isFloat ? "float" : operation is ReduceOperation.Max or ReduceOperation.Min ? input.Type.CType() : "int32_t";
        string start = operation switch
        {
            ReduceOperation.Max => isFloat ? "-3.40282347e+38f" : CLiteral.Int(QuantizedRange.Of(input.Type).Min),
            ReduceOperation.Min => isFloat ? "3.40282347e+38f" : CLiteral.Int(QuantizedRange.Of(input.Type).Max),
            _ => isFloat ? "0.0f" : "0",
        };
        body.Line($"{accType} acc = {start};");
        var inner = new Stack<IDisposable>();
        string index = baseIndex;
        foreach (int d in reduced)
        {
            inner.Push(body.Block($"for (int r{d} = 0; r{d} < {input.Shape[d]}; ++r{d})"));
            index += $" + (size_t)r{d} * {strides[d]}";
        }

        body.Line(operation switch
        {
            ReduceOperation.Max => $"{{ const {accType} x = {c.Input(0)}[{index}]; acc = x > acc ? x : acc; }}",
            ReduceOperation.Min => $"{{ const {accType} x = {c.Input(0)}[{index}]; acc = x < acc ? x : acc; }}",
            _ => $"acc += {c.Input(0)}[{index}];",
        });
        while (inner.Count > 0) inner.Pop().Dispose();
        if (operation is ReduceOperation.Max or ReduceOperation.Min || (isFloat && operation == ReduceOperation.Sum))
        {
            body.Line($"{c.Output()}[o++] = acc;");
        }
        else if (isFloat)
        {
            body.Line($"{c.Output()}[o++] = acc / {count}.0f;");
        }
        else
        {
            var q = operation == ReduceOperation.Mean ? MeanQuantization.Derive(input, output, (int)count) : MeanQuantization.DeriveSum(input, output, (int)count);
            c.Support.Use("mtvm_fixed_point");
            body.Line($"int32_t y = mtvm_mbqm(acc{Minus((long)q.InputZeroPoint * count)}, {q.Multiplier}, {q.Shift}){Plus(q.OutputZeroPoint)};");
            Clamp(body, "y", QuantizedRange.Of(output.Type));
            body.Line($"{c.Output()}[o++] = ({output.Type.CType()})y;");
        }

        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
