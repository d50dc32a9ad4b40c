using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>ADD, SUB, MUL, MAXIMUM, MINIMUM with TFLite broadcasting; int8 and float32. Dimensions that are
/// contiguous in all operands are merged, so the common same-shape case is one flat loop.</summary>
internal sealed class BinaryElementwiseKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var a = node.Input(0);
        var b = node.Input(1);
        var output = node.Output;
        if (BroadcastLoops.SameTypeMismatch(node) is { } mismatch) return mismatch;
        var activation = node.Attributes is ElementwiseAttributes e ? e.Activation : FusedActivation.None;
        if (ExpectFusedActivation(activation) is { } act) return act;
        if (a.Type == ElementType.Float32) return null;
        if (a.Type == ElementType.Int32) return null;
        if (a.Type is ElementType.Int8 or ElementType.Int16)
        {
            foreach (var (t, role) in new[] { (a, "first input"), (b, "second input"), (output, "output") })
                if (ExpectQuantized(t, role, a.Type) is { } q) return q;
            return null;
        }

        return $"element type {a.Type.DisplayName()} is not supported (int8, int16, int32, float32 are)";
    }

    public override bool CanWriteOver(Node node, int inputIndex) =>
        node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape) && node.Input(inputIndex).Type == node.Output.Type;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var output = node.Output;
        var activation = node.Attributes is ElementwiseAttributes e ? e.Activation : FusedActivation.None;
        var body = c.Body;
        bool isFloat = output.Type == ElementType.Float32;
        string t = output.Type.CType();
        string inA = c.Input(0), inB = c.Input(1);

        // Prologue: constants of the quantized arithmetic.
        Action<string, string, string> element;
        if (isFloat)
        {
            c.Support.Use("mtvm_minmax");
            element = (x, y, o) =>
            {
                string value = node.Kind == OpKind.Add ? $"{x} + {y}"
                    : node.Kind == OpKind.Sub ? $"{x} - {y}"
                    : node.Kind == OpKind.Mul ? $"{x} * {y}"
                    : node.Kind == OpKind.Maximum ? $"({x} > {y} ? {x} : {y})"
                    : $"({x} < {y} ? {x} : {y})";
                body.Line(node.Kind == OpKind.Maximum || node.Kind == OpKind.Minimum ? $"{o} = {value};" : $"{o} = {FloatClamp(value, activation)};");
            };
        }
        else if (output.Type == ElementType.Int32 && node.Kind != OpKind.Maximum && node.Kind != OpKind.Minimum)
        {
            // Wrapping, as TFLite Micro's int32 kernels (in unsigned arithmetic: no undefined overflow). Its int32 ADD
            // ignores the fused activation.
            string op = node.Kind == OpKind.Add ? "+" : node.Kind == OpKind.Sub ? "-" : "*";
            var range = node.Kind == OpKind.Add ? QuantizedRange.Of(ElementType.Int32) : ActivationRange.Int32(activation);
            element = (x, y, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"int32_t acc = (int32_t)((uint32_t){x} {op} (uint32_t){y});");
                    ClampInt32(body, "acc", range);
                    body.Line($"{o} = acc;");
                }
            };
        }
        else if (node.Kind == OpKind.Maximum || node.Kind == OpKind.Minimum)
        {
            string op = node.Kind == OpKind.Maximum ? ">" : "<";
            element = (x, y, o) => body.Line($"{o} = {x} {op} {y} ? {x} : {y};");
        }
        else if (node.Kind == OpKind.Mul)
        {
            c.Support.Use("mtvm_fixed_point");
            var q = MulQuantization.Derive(node.Input(0), node.Input(1), output, activation);
            element = (x, y, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"int32_t acc = mtvm_mbqm(((int32_t){x}{Plus(q.Input1Offset)}) * ((int32_t){y}{Plus(q.Input2Offset)}), {q.OutputMultiplier}, {q.OutputShift}){Plus(q.OutputOffset)};");
                    Clamp(body, "acc", q.Activation);
                    body.Line($"{o} = ({t})acc;");
                }
            };
        }
        else
        {
            c.Support.Use("mtvm_fixed_point");
            var p = node.Kind == OpKind.Add
                ? AddSubQuantization.ForAdd(node.Input(0), node.Input(1), output, activation)
                : AddSubQuantization.ForSub(node.Input(0), node.Input(1), output, activation);
            string sign = node.Kind == OpKind.Add ? "+" : "-";
            element = (x, y, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const int32_t a = mtvm_mbqm(((int32_t){x}{Plus(p.Input1Offset)}) * {1 << p.LeftShift}, {p.Input1Multiplier}, {p.Input1Shift});");
                    body.Line($"const int32_t b = mtvm_mbqm(((int32_t){y}{Plus(p.Input2Offset)}) * {1 << p.LeftShift}, {p.Input2Multiplier}, {p.Input2Shift});");
                    body.Line($"int32_t acc = mtvm_mbqm(a {sign} b, {p.OutputMultiplier}, {p.OutputShift}){Plus(p.OutputOffset)};");
                    Clamp(body, "acc", p.Activation);
                    body.Line($"{o} = ({t})acc;");
                }
            };
        }

        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { inA, inB }, (x, o) => element(x[0], x[1], o));
    }

}
