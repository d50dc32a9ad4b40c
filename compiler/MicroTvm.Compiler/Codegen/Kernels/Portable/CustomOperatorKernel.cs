using System.Text;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// CUSTOM: describes the operands to the project's C function (<c>microtvm/custom_op.h</c>, docs/generated-c.md) and
/// returns its status: shapes, scales and zero points as const arrays, the custom options as a const byte array (flash),
/// the planned scratch. The function's non-zero status ends <c>&lt;name&gt;_run</c> with an error.
/// </summary>
internal sealed class CustomOperatorKernel : Kernel
{
    public const string Header = "\"microtvm/custom_op.h\"";

    public override string? Unsupported(Node node) => null;

    public override bool ReturnsStatus(Node node) => true;

    public override long ScratchBytes(Node node) => node.AttributesAs<CustomAttributes>().ScratchBytes;

    /// <summary>The project's C may keep any C type there (int64_t, double): 8, whatever the workspace alignment.</summary>
    public override int ScratchAlignment(Node node) => 8;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var custom = node.AttributesAs<CustomAttributes>();
        c.Support.Declare(Header, $"int {custom.Function}(const microtvm_custom_op* op);");
        var body = c.Body;
        string options = custom.Options.Length == 0 ? "NULL"
            : c.Constants.UInt8($"{c.Prefix}_custom_options", custom.Options, $"operator {node.Index}: custom options of '{custom.Code}'");
        string inputs = Descriptors(c, "inputs", node.Inputs.Select((t, i) => (t, t is null ? "NULL" : $"(void*){c.Input(i)}")).ToList());
        string outputs = Descriptors(c, "outputs", node.Outputs.Select((t, j) => ((Tensor?)t, $"(void*){c.Output(j)}")).ToList());
        body.Line("microtvm_custom_op op;");
        body.Line($"op.name = {StringLiteral(custom.Code)};");
        body.Line($"op.operator_index = {node.Index};");
        body.Line($"op.input_count = {node.Inputs.Count};");
        body.Line($"op.inputs = {inputs};");
        body.Line($"op.output_count = {node.Outputs.Count};");
        body.Line($"op.outputs = {outputs};");
        body.Line($"op.options = {options};");
        body.Line($"op.options_size = {custom.Options.Length};");
        bool hasScratch = c.Plan.ScratchOffsets.ContainsKey(node);
        body.Line($"op.scratch = {(hasScratch ? "scratch" : "NULL")};");
        body.Line($"op.scratch_size = {(hasScratch ? custom.ScratchBytes : 0)};");
        body.Line($"return {custom.Function}(&op);");
    }

    /// <summary>Declares the descriptor array of <paramref name="tensors"/> in the body; its name, or NULL when there are none.</summary>
    private static string Descriptors(EmitContext c, string name, IReadOnlyList<(Tensor? Tensor, string Data)> tensors)
    {
        if (tensors.Count == 0) return "NULL";
        c.Body.Line($"const microtvm_tensor {name}[{tensors.Count}] = {{");
        for (int i = 0; i < tensors.Count; i++)
        {
            var (t, data) = tensors[i];
            string role = $"{c.Prefix}_{name[..^1]}{i}";
            string text;
            if (t is null)
            {
                text = "{ NULL, 0, -1, 0, NULL, 0.0f, 0, 0, 0, NULL, NULL }";
            }
            else
            {
                string shape = t.Rank == 0 ? "NULL" : c.Constants.Int32($"{role}_shape", t.Shape, $"operator {c.Node.Index} {role}: shape of t{t.Id}");
                var q = t.Type == ElementType.Float32 ? null : t.Quantization;
                string scales = "NULL", zeroPoints = "NULL";
                if (q is not null)
                {
                    scales = c.Constants.Float($"{role}_scales", q.Scales.ToArray(), $"operator {c.Node.Index} {role}: scales of t{t.Id}");
                    var zeros = Enumerable.Range(0, q.Scales.Count).Select(k => (int)q.ZeroPoints[q.ZeroPoints.Count == 1 ? 0 : k]).ToArray();
                    zeroPoints = c.Constants.Int32($"{role}_zero_points", zeros, $"operator {c.Node.Index} {role}: zero points of t{t.Id}");
                }

                text = $"{{ {data}, {t.ByteSize}, MICROTVM_TYPE_{t.Type.ToString().ToUpperInvariant()}, {t.Rank}, {shape}, "
                    + $"{(q is null ? "0.0f" : CLiteral.Float(q.Scale))}, {(q is null ? "0" : CLiteral.Int(q.ZeroPoints[0]))}, "
                    + $"{q?.Scales.Count ?? 0}, {q?.QuantizedDimension ?? 0}, {scales}, {zeroPoints} }}";
            }

            c.Body.Line($"    {text}{(i + 1 < tensors.Count ? "," : "")}");
        }

        c.Body.Line("};");
        return name;
    }

    /// <summary>A C string literal of any text: bytes outside printable ASCII, quotes, backslashes and '?' as octal escapes.</summary>
    private static string StringLiteral(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (byte b in Encoding.UTF8.GetBytes(text))
            builder.Append(b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\' and not (byte)'?' ? ((char)b).ToString() : $"\\{Convert.ToString(b, 8).PadLeft(3, '0')}");
        return builder.Append('"').ToString();
    }
}
