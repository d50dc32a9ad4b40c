using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>ADD_N element by element, inputs summed in order (<see cref="AddNReference"/>).</summary>
internal sealed class AddNKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var output = node.Output;
        if (node.Inputs.Any(t => t!.Type != output.Type || !t.Shape.SequenceEqual(output.Shape))) return "every input must have the output's element type and shape";
        return output.Type switch
        {
            ElementType.Float32 => null,
            ElementType.Int8 => node.Inputs.Select((t, i) => ExpectQuantized(t!, $"input {i}", ElementType.Int8)).FirstOrDefault(m => m is not null)
                                ?? ExpectQuantized(output, "output", ElementType.Int8),
            _ => $"element type {output.Type.DisplayName()} is not supported (float32, int8 are)",
        };
    }

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var body = c.Body;
        var inputs = Enumerable.Range(0, node.Inputs.Count).Select(c.Input).ToList();
        using var loop = body.Block($"for (size_t i = 0; i < {node.Output.ElementCount}; ++i)");
        if (node.Output.Type == ElementType.Float32)
        {
            body.Line("float x = 0.0f;");
            foreach (var input in inputs) body.Line($"x += {input}[i];");
            body.Line($"{c.Output()}[i] = x;");
            return;
        }

        c.Support.Use("mtvm_fixed_point");
        var q = AddNQuantization.Derive(node);
        string Scaled(string centred) => $"mtvm_mbqm(({centred}) * {1 << AddNQuantization.LeftShift}, {q.InputMultiplier}, {q.InputShift})";
        body.Line($"int32_t x = {Scaled(CLiteral.Int(q.InputOffset))};");
        foreach (var input in inputs) body.Line($"x += {Scaled($"(int32_t){input}[i]{Plus(q.InputOffset)}")};");
        body.Line($"x = mtvm_mbqm(x, {q.OutputMultiplier}, {q.OutputShift}){Plus(q.OutputOffset)};");
        Clamp(body, "x", -128, 127);
        body.Line($"{c.Output()}[i] = (int8_t)x;");
    }
}
