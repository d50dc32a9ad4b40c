using System.Globalization;
using System.Text;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Testing;

/// <summary>
/// The pieces of C that every program checking a model against TFLM's stored outputs writes the same way: the test
/// vectors as arrays, the offsets of each input and output inside them, one inference through either API, and which
/// models are compared with a float tolerance. Linked into the host tests (ModelHarness), the QEMU tests
/// (ModelCheckFirmware) and the benchmark (eng/benchmark).
/// </summary>
internal static class ModelCheckSource
{
    /// <summary><c>static const uint8_t name[n]</c>, 16-byte aligned, 32 values a line.</summary>
    public static string ByteArray(string name, byte[] bytes)
    {
        var sb = new StringBuilder($"static const uint8_t {name}[{Math.Max(1, bytes.Length)}] __attribute__((aligned(16))) = {{");
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i % 32 == 0) sb.Append("\n    ");
            sb.Append(bytes[i].ToString(CultureInfo.InvariantCulture)).Append(i + 1 < bytes.Length ? "," : "");
        }

        return sb.Append("\n};").ToString();
    }

    /// <summary>C expressions for the byte offset of each part in a back-to-back vector of <paramref name="sizes"/>
    /// (input{k}.bin holds every input in graph order, output{k}.bin every output): "0", "A_SIZE", "A_SIZE + B_SIZE", ….</summary>
    public static List<string> Offsets(IReadOnlyList<string> sizes)
    {
        var offsets = new List<string>();
        string offset = "0";
        foreach (var size in sizes)
        {
            offsets.Add(offset);
            offset = offset == "0" ? size : $"{offset} + {size}";
        }

        return offsets;
    }

    /// <summary>The size macros of a model's inputs or outputs: <c>&lt;PREFIX&gt;_INPUT0_SIZE</c>, ….</summary>
    public static List<string> Sizes(string prefix, string kind, int count) =>
        Enumerable.Range(0, count).Select(i => $"{prefix}_{kind}{i}_SIZE").ToList();

    /// <summary>Float32 outputs of float arithmetic are compared within 1e-5 absolute + relative (TFLM's own differ
    /// between x86-64 and Cortex-M in the last bits); everything else, DEQUANTIZE's float outputs too, bit for bit.</summary>
    public static bool ComparesWithTolerance(Graph graph) =>
        graph.Outputs.Any(o => o.Type == ElementType.Float32 && graph.Producers()[o].Kind != OpKind.Dequantize);

    /// <summary>
    /// The C statements of one inference of the model with C prefix <paramref name="name"/> on a buffer
    /// <c>workspace</c>: reset its state (each stored output is one inference from TFLM's initial state), hand it the
    /// inputs (<paramref name="input"/>(i): a C expression of input i's bytes), run it between <paramref name="before"/>
    /// and <paramref name="after"/> (a timer), and leave output j at <paramref name="output"/>(j). With the inputs and
    /// outputs in the workspace they are copied through the accessors, else pointed at through the inputs and outputs
    /// structs. <paramref name="check"/>(call, function) is the statement that makes a call returning non-zero fail.
    /// </summary>
    public static string Inference(string name, int inputs, int outputs, bool ioInWorkspace, Func<int, string> input, Func<int, string> output,
        Func<string, string, string> check, string before = "", string after = "")
    {
        string upper = name.ToUpperInvariant();
        var c = new StringBuilder();
        void Line(string line) => c.Append("        ").AppendLine(line);
        if (!ioInWorkspace) Line($"{name}_inputs in; {name}_outputs out;");
        Line(check($"{name}_reset(workspace)", $"{name}_reset"));
        for (int i = 0; i < inputs; i++)
            Line(ioInWorkspace ? $"memcpy({name}_input{i}(workspace), {input(i)}, {upper}_INPUT{i}_SIZE);"
                : $"in.input{i} = (const {name}_input{i}_t*)(const void*)({input(i)});");
        for (int j = 0; j < outputs && !ioInWorkspace; j++)
            Line($"out.output{j} = ({name}_output{j}_t*)(void*)({output(j)});");
        if (before.Length > 0) Line(before);
        Line(check(ioInWorkspace ? $"{name}_run(workspace)" : $"{name}_run(&in, &out, workspace)", $"{name}_run"));
        if (after.Length > 0) Line(after);
        for (int j = 0; j < outputs && ioInWorkspace; j++)
            Line($"memcpy({output(j)}, {name}_output{j}(workspace), {upper}_OUTPUT{j}_SIZE);");
        return c.ToString();
    }
}
