using System.Globalization;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Every model in tests/models: generate C, build it with the host gcc (<see cref="Gcc.HostFlags"/>: C99, -Wall
/// -Wextra -Wconversion -Wsign-conversion -Wpedantic -Werror, ASan+UBSan), run it on the stored inputs and compare
/// with TensorFlow Lite Micro's outputs and, for input 0, every stored intermediate tensor. Integer tensors must match byte for byte; float32 tensors computed in float arithmetic
/// must agree within <see cref="FloatTolerance"/> (absolute plus relative) — TFLM's own float32 outputs differ
/// between x86-64 and Cortex-M in the last bits.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class WholeModelTests
{
    /// <summary>Absolute and relative tolerance for float32 results of float arithmetic.</summary>
    public const float FloatTolerance = 1e-5f;

    public static IEnumerable<object[]> Models() => TestModels.All();

    [Theory]
    [MemberData(nameof(Models))]
    public void GeneratedCMatchesTfliteMicroOnHost(string modelName)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        var model = ModelCompiler.Compile(graph, new CompileOptions("host", modelName));
        var folder = TestModels.Folder(modelName);
        ModelHarness.RunOnStoredInputs(modelName, graph, model, "model-" + modelName, traceDir => CompareIntermediates(graph, folder, traceDir));
    }

    /// <summary>Compares intermediates in execution order and names the first operator whose output differs.</summary>
    internal static void CompareIntermediates(Graph graph, string folder, string traceDir)
    {
        var stored = File.ReadAllLines(Path.Combine(folder, "intermediates0", "index.csv")).Skip(1)
            .Select(line => int.Parse(line.Split(',')[0], CultureInfo.InvariantCulture)).ToHashSet();
        int compared = 0;
        foreach (var node in graph.Nodes)
        {
            foreach (var tensor in node.Outputs.Where(t => stored.Contains(t.Id)))
            {
                var ours = Path.Combine(traceDir, $"t{tensor.Id}.bin");
                Assert.True(File.Exists(ours), $"operator {node.Index} ({node.Kind.Name}) did not trace its output t{tensor.Id}");
                var expected = File.ReadAllBytes(Path.Combine(folder, "intermediates0", $"t{tensor.Id}.bin"));
                string? difference = Difference(tensor, expected, File.ReadAllBytes(ours), ProducedByFloatArithmetic(graph, tensor));
                Assert.True(difference is null,
                    $"first differing operator: {node.Index} ({node.Kind.Name}), output t{tensor.Id} '{tensor.Name}': {difference}");
                compared++;
            }
        }

        // State tensors hold their value after the run (traced after each operator that updates them).
        foreach (var tensor in graph.Tensors.Where(t => t.IsVariable && stored.Contains(t.Id)))
        {
            var ours = Path.Combine(traceDir, $"t{tensor.Id}.bin");
            Assert.True(File.Exists(ours), $"state tensor t{tensor.Id} was not traced");
            var expected = File.ReadAllBytes(Path.Combine(folder, "intermediates0", $"t{tensor.Id}.bin"));
            string? difference = Difference(tensor, expected, File.ReadAllBytes(ours), tolerant: false);
            Assert.True(difference is null, $"state t{tensor.Id} '{tensor.Name}' after the run: {difference}");
            compared++;
        }

        Assert.True(compared > 0, "no intermediate tensor was compared");
    }

    /// <summary>A float32 tensor computed in float arithmetic (not dequantized): compared within the tolerance.</summary>
    public static bool ProducedByFloatArithmetic(Graph graph, Tensor tensor) =>
        tensor.Type == ElementType.Float32 && graph.Producers().TryGetValue(tensor, out var node) && node.Kind != OpKind.Dequantize;

    /// <summary>Null when equal (within tolerance for float arithmetic), else a description of the first difference.</summary>
    public static string? Difference(Tensor tensor, byte[] expected, byte[] actual, bool tolerant)
    {
        if (expected.Length != actual.Length) return $"{actual.Length} bytes, expected {expected.Length}";
        if (tolerant)
        {
            for (int i = 0; i < expected.Length / 4; i++)
            {
                float e = BitConverter.ToSingle(expected, i * 4), a = BitConverter.ToSingle(actual, i * 4);
                if (!(Math.Abs(e - a) <= FloatTolerance * (1 + Math.Abs(e))) && !(float.IsNaN(e) && float.IsNaN(a)))
                    return $"element {i}: {a:R}, expected {e:R} (tolerance {FloatTolerance})";
            }

            return null;
        }

        int size = tensor.Type.SizeInBytes();
        bool Same(int e) => expected.AsSpan(e * size, size).SequenceEqual(actual.AsSpan(e * size, size)) || BothNaN(tensor, expected, actual, e);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == actual[i] || BothNaN(tensor, expected, actual, i / size)) continue;
            int element = i / size;
            int count = Enumerable.Range(0, expected.Length / size).Count(e => !Same(e));
            return tensor.Type == ElementType.Int8
                ? $"element {element}: {(sbyte)actual[i]}, expected {(sbyte)expected[i]} ({count} of {expected.Length / size} elements differ)"
                : $"element {element} differs ({count} of {expected.Length / size} elements differ)";
        }

        return null;
    }

    /// <summary>Two float32 NaNs are the same result: IEEE 754 leaves a NaN's sign and payload to the machine (x86's
    /// default NaN is negative, Arm's positive), so only "NaN or not" is part of what a kernel computes.</summary>
    private static bool BothNaN(Tensor tensor, byte[] expected, byte[] actual, int element) =>
        tensor.Type == ElementType.Float32 && float.IsNaN(BitConverter.ToSingle(expected, element * 4)) && float.IsNaN(BitConverter.ToSingle(actual, element * 4));
}
