using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Reference;

/// <summary>
/// The single-operator models of tests/operators against the outputs TensorFlow Lite Micro computed for them (see
/// that folder's README). A case listed in not-supported.txt must be refused with an MTVM error when it is
/// imported or evaluated; every other case must equal TFLM: integer outputs byte for byte, float32 outputs within
/// <see cref="WholeModelTests.FloatTolerance"/> (relative), in the reference evaluator and in the generated C.
/// </summary>
public class OperatorOracleTests
{
    public static string Root { get; } = Path.Combine(Path.GetDirectoryName(TestModels.Root)!, "operators");

    private static readonly HashSet<string> NotSupported = File.ReadAllLines(Path.Combine(Root, "not-supported.txt"))
        .Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).ToHashSet();

    public static IEnumerable<object[]> Cases() =>
        Directory.GetDirectories(Root).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    public static IEnumerable<object[]> SupportedCases() => Cases().Where(c => !NotSupported.Contains((string)c[0]));

    [Fact]
    public void Every_listed_unsupported_case_exists()
    {
        var names = Cases().Select(c => (string)c[0]).ToHashSet();
        var stale = NotSupported.Where(n => !names.Contains(n)).ToList();
        Assert.True(stale.Count == 0, "not-supported.txt names missing cases: " + string.Join(", ", stale));
        Assert.True(names.Count >= 100, $"only {names.Count} cases");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluator_equals_TFLM(string name)
    {
        string folder = Path.Combine(Root, name);
        Graph graph;
        IReadOnlyDictionary<Tensor, byte[]> values;
        try
        {
            graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
            values = ReferenceEvaluator.Run(graph, SplitInputs(graph, File.ReadAllBytes(Path.Combine(folder, "input0.bin"))));
        }
        catch (CompilerException e) when (NotSupported.Contains(name))
        {
            Assert.StartsWith("MTVM", e.Code, StringComparison.Ordinal);
            return;
        }

        Assert.False(NotSupported.Contains(name), $"{name} now imports and runs: remove it from tests/operators/not-supported.txt");
        var expected = SplitOutputs(graph, File.ReadAllBytes(Path.Combine(folder, "output0.bin")));
        for (int k = 0; k < graph.Outputs.Count; k++)
        {
            var output = graph.Outputs[k];
            string? difference = WholeModelTests.Difference(output, expected[k], values[output], WholeModelTests.ProducedByFloatArithmetic(graph, output));
            Assert.True(difference is null, $"{name} output {k}: {difference}");
        }
    }

    /// <summary>Every supported case compiled to C for the host (one gcc build, sanitizers on) against TFLM's outputs.</summary>
    [Fact]
    [Trait("Speed", "Slow")]
    public void Generated_C_equals_TFLM()
    {
        var cases = SupportedCases().Select(c => (string)c[0]).Select(name =>
        {
            string folder = Path.Combine(Root, name);
            var graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
            return new RandomGraphs.Case(name, graph, SplitInputs(graph, File.ReadAllBytes(Path.Combine(folder, "input0.bin"))),
                SplitOutputs(graph, File.ReadAllBytes(Path.Combine(folder, "output0.bin"))));
        }).ToList();
        DifferentialTests.CheckAll(cases, "tests/operators");
    }

    /// <summary>Operators whose kernels this oracle introduced, by case-name prefix.</summary>
    private static readonly string[] MovementAndSignPrefixes =
    {
        "slice_", "split_", "pack_", "unpack_", "gather_", "reverse_v2_", "broadcast_to_", "depth_to_space_", "space_to_depth_",
        "space_to_batch_nd_", "batch_to_space_nd_", "mirror_pad_", "fill_", "zeros_like_", "neg_",
        "exp_", "log_f32", "sqrt_", "rsqrt_", "square_", "sin_", "cos_", "floor_f32", "ceil_", "round_", "elu_", "cast_", "l2_normalization_", "log_softmax_f32",
    };

    /// <summary>The generated C of those operators' cases compiles without a warning under the flags
    /// docs/generated-c.md promises (-std=c99 -Wall -Wextra -Wconversion -Wsign-conversion -Wpedantic), for the host
    /// and for a Cortex-M4.</summary>
    [Fact]
    [Trait("Speed", "Slow")]
    public void Generated_C_of_movement_and_sign_operators_is_warning_free()
    {
        var dir = Gcc.TemporaryDirectory("strict");
        var sources = new List<string>();
        foreach (var name in SupportedCases().Select(c => (string)c[0]).Where(n => MovementAndSignPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal))))
        {
            var graph = TfliteImporter.Load(Path.Combine(Root, name, "model.tflite"));
            var model = ModelCompiler.Compile(graph, new CompileOptions("host", name));
            model.WriteTo(dir);
            sources.Add(model.SourceFile);
        }

        Assert.True(sources.Count >= 50, $"only {sources.Count} cases");
        const string strict = "-std=c99 -Wall -Wextra -Wconversion -Wsign-conversion -Wpedantic -Werror -O1 -c";
        var (code, text) = Gcc.Run("gcc", $"{strict} {string.Join(" ", sources)}", dir);
        Assert.True(code == 0, $"gcc failed ({code}):\n{text}");
        (code, text) = Gcc.Run("arm-none-eabi-gcc", $"-mcpu=cortex-m4 -mthumb {strict} {string.Join(" ", sources)}", dir);
        Assert.True(code == 0, $"arm-none-eabi-gcc failed ({code}):\n{text}");
    }

    /// <summary>input0.bin holds every graph input back to back, in the model's input order.</summary>
    public static byte[][] SplitInputs(Graph graph, byte[] bytes) => Split(graph.Inputs, bytes, "input0.bin");

    public static byte[][] SplitOutputs(Graph graph, byte[] bytes) => Split(graph.Outputs, bytes, "output0.bin");

    private static byte[][] Split(IReadOnlyList<Tensor> tensors, byte[] bytes, string file)
    {
        var parts = new byte[tensors.Count][];
        int offset = 0;
        for (int k = 0; k < tensors.Count; k++)
        {
            int size = checked((int)tensors[k].ByteSize);
            Assert.True(offset + size <= bytes.Length, $"{file} is shorter than the tensors it holds");
            parts[k] = bytes[offset..(offset + size)];
            offset += size;
        }

        Assert.Equal(bytes.Length, offset);
        return parts;
    }
}
