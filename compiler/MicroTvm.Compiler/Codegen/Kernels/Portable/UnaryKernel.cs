using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// Element-wise activations RELU, RELU6, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH.
/// int8: the operator maps 256 possible inputs to 256 outputs, so the compiler tabulates it at compile time — each
/// entry computed by the reference evaluator, i.e. TFLite's fixed-point arithmetic bit for bit — and the C is one
/// table lookup per element (256 bytes of flash). int16: TFLite's arithmetic in C (rescaling, clamps, the
/// interpolated sigmoid table). float32: plain C with a portable exp (no libm), within float tolerance.
/// </summary>
internal sealed class UnaryKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (input.Type != output.Type || input.ElementCount != output.ElementCount) return "input and output must have the same type and size";
        if (input.Type == ElementType.Float32) return null;
        if (input.Type == ElementType.Int8 || (input.Type == ElementType.Int16 && node.Kind != OpKind.HardSwish))
        {
            if (ExpectQuantized(input, "input", input.Type) is { } e1) return e1;
            return ExpectQuantized(output, "output", input.Type);
        }

        return $"element type {input.Type.DisplayName()} is not supported (int8, float32{(node.Kind == OpKind.HardSwish ? "" : ", int16")} are)";
    }

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        switch (input.Type)
        {
            case ElementType.Int8: EmitTable(c); break;
            case ElementType.Int16: EmitInt16(c); break;
            default: EmitFloat(c); break;
        }
    }

    /// <summary>An int8 operator of one input as a 256-entry table computed by the reference evaluator.</summary>
    internal static void EmitTable(EmitContext c)
    {
        var node = c.Node;
        var x = new Tensor(0, "x", ElementType.Int8, new[] { 256 }, node.Input(0).Quantization, null);
        var y = new Tensor(1, "y", ElementType.Int8, new[] { 256 }, node.Output.Quantization, null);
        var probe = new Graph("table", new[] { x, y }, new[] { new Node(node.Index, node.Kind, node.Attributes, new[] { x }, new[] { y }) }, new[] { x }, new[] { y });
        var allInputs = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();   // byte i holds the int8 value (sbyte)i
        var table = ReferenceEvaluator.Run(probe, new[] { allInputs })[y];
        string name = c.Constants.Int8($"{c.Prefix}_table", Decode.Int8(table), $"operator {node.Index} {node.Kind.Name} for every int8 input, indexed by (uint8_t)x");
        using (c.Body.Block($"for (size_t i = 0; i < {node.Output.ElementCount}; ++i)"))
            c.Body.Line($"{c.Output()}[i] = {name}[(uint8_t){c.Input(0)}[i]];");
    }

    private static void EmitInt16(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        var output = node.Output;
        var body = c.Body;
        var range = QuantizedRange.Of(ElementType.Int16);
        using (body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)"))
        {
            body.Line($"const int32_t x = {c.Input(0)}[i];");
            if (node.Kind == OpKind.Relu)
            {
                var q = ReluQuantization.Derive(input, output);
                c.Support.Use("mtvm_fixed_point");
                body.Line($"int32_t y = {q.OutputZeroPoint} + mtvm_mbqm(x - {q.InputZeroPoint}, {q.Multiplier}, {q.Shift});");
                Clamp(body, "y", q.Range);
            }
            else if (node.Kind == OpKind.Relu6)
            {
                var q = Relu6Quantization.Derive(input);
                body.Line($"const int32_t y = x > {q.Six} ? {q.Six} : x < {q.Zero} ? {q.Zero} : x;");
            }
            else if (node.Kind == OpKind.LeakyRelu)
            {
                var q = LeakyReluQuantization.Derive(input, output, node.AttributesAs<LeakyReluAttributes>().Alpha);
                c.Support.Use("mtvm_fixed_point");
                body.Line($"const int32_t centred = x - {q.InputZeroPoint};");
                body.Line($"int32_t y = {q.OutputZeroPoint} + (centred >= 0 ? mtvm_mbqm(centred, {q.IdentityMultiplier}, {q.IdentityShift}) : mtvm_mbqm(centred, {q.AlphaMultiplier}, {q.AlphaShift}));");
                Clamp(body, "y", range);
            }
            else
            {
                bool tanh = node.Kind == OpKind.Tanh;
                var q = SigmoidInt16Quantization.Derive(input, tanh);
                string table = SigmoidTable(c);
                int round = q.InputLeftShift > 0 ? 1 << (q.InputLeftShift - 1) : 0;
                int step = tanh ? 8 : 9;
                body.Line($"const int32_t scaled = (x * {q.InputMultiplier} + {round}) >> {q.InputLeftShift};");
                body.Line("const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);");
                body.Line($"const uint32_t index = magnitude >> {step};");
                if (tanh)
                {
                    body.Line("int32_t r = index >= 255 ? (int32_t)(0xFFFFu << 8)");
                    body.Line($"    : (int32_t)(((uint32_t){table}[index] << 8) + (magnitude & 0xFFu) * (uint32_t)({table}[index + 1] - {table}[index]));");
                    body.Line("r = scaled >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;");
                    body.Line("const int32_t y = (int16_t)(r >> 8);");
                }
                else
                {
                    body.Line("uint32_t r = index >= 255 ? (0x7FFFu << 10)");
                    body.Line($"    : ((uint32_t){table}[index] << 9) + (magnitude & 0x1FFu) * (uint32_t)({table}[index + 1] - {table}[index]);");
                    body.Line("r = scaled >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;");
                    body.Line("const int32_t y = (int16_t)(r >> 10);");
                }
            }

            body.Line($"{c.Output()}[i] = (int16_t)y;");
        }
    }

    private static string SigmoidTable(EmitContext c) =>
        c.Constants.UInt16($"{c.Prefix}_sigmoid", SigmoidInt16Quantization.SigmoidTable.ToArray(), "sigmoid(i/24) in unsigned Q0.16, i = 0..255 (TFLite's interpolation table)");

    private static void EmitFloat(EmitContext c)
    {
        var node = c.Node;
        var body = c.Body;
        using (body.Block($"for (size_t i = 0; i < {node.Output.ElementCount}; ++i)"))
        {
            body.Line($"const float x = {c.Input(0)}[i];");
            string value;
            if (node.Kind == OpKind.Relu) value = "x < 0.0f ? 0.0f : x";
            else if (node.Kind == OpKind.Relu6) value = "x > 6.0f ? 6.0f : x < 0.0f ? 0.0f : x";
            else if (node.Kind == OpKind.LeakyRelu) value = $"x > 0.0f ? x : x * {CLiteral.Float(node.AttributesAs<LeakyReluAttributes>().Alpha)}";
            else if (node.Kind == OpKind.HardSwish)
            {
                c.Support.Use("mtvm_minmax");
                value = "x * mtvm_min_f32(6.0f, mtvm_max_f32(0.0f, x + 3.0f)) / 6.0f";
            }
            else if (node.Kind == OpKind.Logistic)
            {
                c.Support.Use("mtvm_float_math");
                value = "x > 16.619047164916992188f ? 1.0f : x < -9.0f ? mtvm_exp_f32(x) : 1.0f / (1.0f + mtvm_exp_f32(-x))";
            }
            else
            {
                c.Support.Use("mtvm_float_math");
                value = "mtvm_tanh_f32(x)";
            }

            body.Line($"{c.Output()}[i] = {value};");
        }
    }
}
