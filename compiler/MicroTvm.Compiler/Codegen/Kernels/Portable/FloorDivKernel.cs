using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>FLOOR_DIV and FLOOR_MOD (float32) with TFLite broadcasting, as <see cref="Reference.FloorDivReference"/>:
/// exact floor and fmod from mtvm_floor_div.h (no libm).</summary>
internal sealed class FloorDivKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (a.Type != ElementType.Float32 || b.Type != ElementType.Float32 || output.Type != ElementType.Float32) return "inputs and output must be float32";
        return BroadcastLoops.Mismatch(node);
    }

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var body = c.Body;
        c.Support.Use("mtvm_floor_div");
        bool divide = node.Kind == OpKind.FloorDiv;
        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { c.Input(0), c.Input(1) }, (x, o) =>
        {
            if (divide)
            {
                body.Line($"{o} = (float)mtvm_floor_f64((double){x[0]} / (double){x[1]});");
                return;
            }

            using (body.Block(""))
            {
                body.Line($"const float b = {x[1]};");
                body.Line($"const float m = mtvm_fmod_f32({x[0]}, b);");
                body.Line($"{o} = m != 0.0f && (b < 0.0f) != (m < 0.0f) ? m + b : m;");
            }
        });
    }
}
