using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>GATHER and GATHER_ND (float32, int8). GATHER with constant indices is a data movement
/// (<see cref="MovementKernel"/>); with indices read at run time, and GATHER_ND, every index is checked before it is
/// used (<see cref="GatherReference"/>'s rules) and the function returns 1, which makes the run return -2, instead of
/// reading out of bounds.</summary>
internal sealed class GatherKernel : Kernel
{
    private readonly MovementKernel _movement = new();

    public override string? Unsupported(Node node) =>
        node.Attributes is GatherAttributes ? _movement.Unsupported(node)
        : node.Input(0).Type is ElementType.Float32 or ElementType.Int8 && node.Output.Type == node.Input(0).Type && node.Input(1).Type == ElementType.Int32
            ? null : "float32 or int8 params with int32 indices are supported";

    public override bool ReturnsStatus(Node node) => node.Attributes is not GatherAttributes;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        if (node.Attributes is GatherAttributes)
        {
            _movement.Emit(c);
            return;
        }

        c.Support.UseMemcpy();
        var body = c.Body;
        string x = c.Input(0), indices = c.Input(1), y = c.Output(), type = node.Input(0).Type.CType();
        if (node.Kind == OpKind.Gather)
        {
            var g = GatherGeometry.Of(node);
            using (body.Block($"for (size_t b = 0; b < {g.Batches}; ++b)"))
            using (body.Block($"for (size_t o = 0; o < {g.Outer}; ++o)"))
            using (body.Block($"for (size_t k = 0; k < {g.Coordinates}; ++k)"))
            {
                body.Line($"const int32_t at = {indices}[b * {g.Coordinates} + k];");
                body.Line($"if (at < 0 || at >= {g.AxisSize}) return 1;");
                body.Line($"memcpy({y} + ((b * {g.Outer} + o) * {g.Coordinates} + k) * {g.Inner}, {x} + ((b * {g.Outer} + o) * {g.AxisSize} + (size_t)at) * {g.Inner}, {g.Inner}u * sizeof({type}));");
            }

            body.Line("return 0;");
            return;
        }

        var nd = GatherNdGeometry.Of(node);
        long count = node.Input(0).ElementCount;
        string strides = c.Constants.Int64($"{c.Prefix}_strides", nd.Strides, $"operator {node.Index}: the params' stride of each indexed dimension");
        using (body.Block($"for (size_t i = 0; i < {nd.Slices}; ++i)"))
        {
            body.Line("int64_t from = 0;");
            using (body.Block($"for (size_t j = 0; j < {nd.Strides.Length}; ++j)"))
                body.Line($"from += (int64_t){indices}[i * {nd.Strides.Length} + j] * {strides}[j];");
            body.Line($"if (from < 0 || from + {nd.SliceSize} > {count}) return 1;");
            body.Line($"memcpy({y} + i * {nd.SliceSize}, {x} + (size_t)from, {nd.SliceSize}u * sizeof({type}));");
        }

        body.Line("return 0;");
    }
}
