using System.Buffers.Binary;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Reference;

/// <summary>
/// Every model in tests/models against the vectors TensorFlow Lite Micro (reference kernels) produced: outputs for
/// every stored input, and every intermediate tensor for input0. Integer tensors must match byte for byte; float32
/// tensors within <see cref="FloatTolerance"/> (TFLM's float kernels on x86-64 against ours: same operation order in
/// IEEE single precision, only library exp and the compiler's choices may differ in the last bits).
/// </summary>
public class ModelOracleTests
{
    public const double FloatTolerance = 1e-5;

    public static IEnumerable<object[]> ModelsAndVectors() =>
        TestModels.All().SelectMany(m => Enumerable.Range(0, 3)
            .Where(k => File.Exists(Path.Combine(TestModels.Folder((string)m[0]), $"input{k}.bin")))
            .Select(k => new object[] { m[0], k }));

    [Theory]
    [MemberData(nameof(ModelsAndVectors))]
    public void Outputs_equal_the_TFLM_reference(string model, int vector)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(model));
        var values = ReferenceEvaluator.Run(graph, TestModels.Inputs(model, graph, vector));
        var expected = TestModels.Outputs(model, graph, vector);
        for (int k = 0; k < graph.Outputs.Count; k++)
            AssertTensorEqual(graph.Outputs[k], expected[k], values[graph.Outputs[k]]);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Every_intermediate_tensor_equals_the_TFLM_reference(string model)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(model));
        string folder = TestModels.Folder(model);
        var values = ReferenceEvaluator.Run(graph, TestModels.Inputs(model, graph, 0));
        var byId = graph.Tensors.ToDictionary(t => t.Id);
        var lines = File.ReadAllLines(Path.Combine(folder, "intermediates0", "index.csv")).Skip(1).Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);

        // In execution order, so the first mismatch names the first layer that differs (a state tensor, after the run,
        // where the operator that updates it runs).
        var checkedTensors = lines
            .Select(line => int.Parse(line.Split(',')[0]))
            .Select(id => byId[id])
            .OrderBy(t => graph.Nodes.ToList().FindIndex(n => n.Outputs.Contains(t) || (t.IsVariable && n.Inputs.Contains(t))));
        foreach (var tensor in checkedTensors)
        {
            var expected = File.ReadAllBytes(Path.Combine(folder, "intermediates0", $"t{tensor.Id}.bin"));
            AssertTensorEqual(tensor, expected, values[tensor]);
        }
    }

    private static void AssertTensorEqual(Tensor tensor, byte[] expected, byte[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"{tensor}: {actual.Length} bytes, reference has {expected.Length}");
        if (tensor.Type == ElementType.Float32)
        {
            for (int i = 0; i < expected.Length / 4; i++)
            {
                float e = BinaryPrimitives.ReadSingleLittleEndian(expected.AsSpan(4 * i));
                float a = BinaryPrimitives.ReadSingleLittleEndian(actual.AsSpan(4 * i));
                Assert.True(Math.Abs(e - a) <= FloatTolerance, $"{tensor}: element {i} is {a}, reference {e}");
            }

            return;
        }

        int size = tensor.Type.SizeInBytes();
        for (int i = 0; i < expected.Length; i += size)
        {
            if (!expected.AsSpan(i, size).SequenceEqual(actual.AsSpan(i, size)))
            {
                var e = GraphBuilder.Values(tensor.Type, expected[i..(i + size)])[0];
                var a = GraphBuilder.Values(tensor.Type, actual[i..(i + size)])[0];
                int mismatches = Enumerable.Range(0, expected.Length / size).Count(j => !expected.AsSpan(j * size, size).SequenceEqual(actual.AsSpan(j * size, size)));
                Assert.Fail($"{tensor}: element {i / size} is {a}, reference {e} ({mismatches} of {expected.Length / size} elements differ)");
            }
        }
    }
}
