using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>MEAN over constant axes: float32, int8, int16. For each output element the reduced elements are summed
/// in input row-major order (the reference's order, which matters for float), then divided or requantized.</summary>
internal sealed class MeanKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (input.Type != output.Type) return "input and output must have the same element type";
        if (input.Type == ElementType.Float32) return null;
        if (input.Type is ElementType.Int8 or ElementType.Int16)
            return ExpectQuantized(input, "input", input.Type) ?? ExpectQuantized(output, "output", input.Type);
        return $"element type {input.Type.DisplayName()} is not supported (float32, int8, int16 are)";
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var p = node.AttributesAs<MeanAttributes>();
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

        body.Line($"{(isFloat ? "float" : "int32_t")} sum = {(isFloat ? "0.0f" : "0")};");
        var inner = new Stack<IDisposable>();
        string index = baseIndex;
        foreach (int d in reduced)
        {
            inner.Push(body.Block($"for (int r{d} = 0; r{d} < {input.Shape[d]}; ++r{d})"));
            index += $" + (size_t)r{d} * {strides[d]}";
        }

        body.Line($"sum += {c.Input(0)}[{index}];");
        while (inner.Count > 0) inner.Pop().Dispose();
        if (isFloat)
        {
            body.Line($"{c.Output()}[o++] = sum / {count}.0f;");
        }
        else
        {
            var q = MeanQuantization.Derive(input, output, (int)count);
            c.Support.Use("mtvm_fixed_point");
            body.Line($"int32_t y = mtvm_mbqm(sum{Minus((long)q.InputZeroPoint * count)}, {q.Multiplier}, {q.Shift}){Plus(q.OutputZeroPoint)};");
            Clamp(body, "y", QuantizedRange.Of(output.Type));
            body.Line($"{c.Output()}[o++] = ({output.Type.CType()})y;");
        }

        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
