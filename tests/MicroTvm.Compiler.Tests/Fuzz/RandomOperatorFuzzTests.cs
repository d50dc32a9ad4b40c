using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tests.Frontend;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// Structure-aware fuzzing: well-formed FlatBuffers holding one random operator with random operand counts,
/// shapes, types, quantization and options (mostly nonsense). Byte mutations rarely get past the FlatBuffer
/// checks; these reach operand, type and shape checking. Every case must import or fail with an MTVM1xxx code,
/// and every imported model must run on the reference evaluator.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class RandomOperatorFuzzTests
{
    private static readonly int[] Codes =
    {
        Builtin.Add, Builtin.AveragePool2D, Builtin.Concatenation, Builtin.Conv2D, Builtin.DepthwiseConv2D, Builtin.Dequantize,
        Builtin.FullyConnected, Builtin.Logistic, Builtin.MaxPool2D, Builtin.Mul, Builtin.Relu, Builtin.Relu6, Builtin.Reshape,
        Builtin.Softmax, Builtin.Tanh, Builtin.Pad, Builtin.Transpose, Builtin.Mean, Builtin.Sub, Builtin.Squeeze,
        Builtin.StridedSlice, Builtin.Maximum, Builtin.Minimum, Builtin.PadV2, Builtin.TransposeConv, Builtin.ExpandDims,
        Builtin.LeakyRelu, Builtin.Quantize, Builtin.HardSwish,
    };

    private readonly ITestOutputHelper _output;

    public RandomOperatorFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void RandomSingleOperatorModelsGiveOnlyMtvmErrors()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("MICROTVM_FUZZ_ITERATIONS"), out int n) ? n : 3000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("MICROTVM_FUZZ_SEED"), out int s) ? s : 11;
        var random = new Random(seed);
        var outcomes = new SortedDictionary<string, int>();
        var failures = new List<string>();
        var budget = FrontendFuzzTests.Budget();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < iterations && failures.Count < 10 && !(clock.Elapsed > budget); i++)
        {
            var bytes = RandomModel(random, out string description);
            string outcome;
            Ir.Graph graph;
            try
            {
                graph = TfliteImporter.Load(bytes, "random.tflite");
                _ = Analysis.GraphStats.Compute(graph);
                outcome = "imported";
            }
            catch (CompilerException e) when (e.Code.StartsWith("MTVM1", StringComparison.Ordinal) && e.Code != ErrorCodes.InternalError && e.File is not null)
            {
                outcomes[e.Code] = outcomes.GetValueOrDefault(e.Code) + 1;
                continue;
            }
            catch (Exception e)
            {
                failures.Add($"{i}: {description}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                continue;
            }

            // What the importer accepts, the reference evaluator must run: any error here is a disagreement
            // between OperatorSupport/ShapeInference and the kernels.
            if (graph.Tensors.All(t => t.ElementCount < 100_000))
            {
                try
                {
                    ReferenceEvaluator.Run(graph, graph.Inputs.Select(t => new byte[t.ByteSize]).ToArray());
                    outcome = "imported and evaluated";
                }
                catch (CompilerException e) when (e.Code == ErrorCodes.QuantizationOutOfRange && e.OperatorIndex is not null)
                {
                    // Scales the fixed-point arithmetic cannot apply (TFLite's Prepare refuses most of them too); the
                    // compiler refuses the same models (ExtremeQuantizationTests).
                    outcome = e.Code;
                }
                catch (Exception e)
                {
                    failures.Add($"{i}: {description}: imported, but the evaluator failed: {e.GetType().Name}: {e.Message}");
                    continue;
                }
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        _output.WriteLine($"seed {seed}, {outcomes.Values.Sum() + failures.Count} models: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.Empty(failures);
        Assert.True(outcomes.GetValueOrDefault("imported and evaluated") > 0, "some random models should be valid");
    }

    internal static byte[] RandomModel(Random random, out string description)
    {
        var b = new TfliteModelBuilder();
        int code = Codes[random.Next(Codes.Length)];
        sbyte type = random.Next(10) switch
        {
            < 4 => TensorTypes.Int8,
            < 6 => TensorTypes.Float32,
            < 8 => TensorTypes.Int16,
            8 => TensorTypes.Int32,
            _ => (sbyte)random.Next(-1, 12),
        };
        int[] Shape()
        {
            var shape = new int[random.Next(6) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 }];
            for (int d = 0; d < shape.Length; d++) shape[d] = random.Next(8) == 0 ? random.Next(-1, 3) : random.Next(1, 7);
            return shape;
        }

        int[]? firstShape = null;
        int Tensor(string name, bool constant)
        {
            // Reusing the first operand's shape half the time keeps a fair share of the models valid.
            var shape = firstShape is not null && random.Next(2) == 0 ? firstShape : Shape();
            firstShape ??= shape;
            sbyte t = random.Next(12) == 0 ? (sbyte)random.Next(0, 10) : type;
            long elements = shape.Aggregate(1L, (a, d) => a * Math.Max(d, 0));
            int size = t switch { 0 or 2 => 4, 4 => 8, 7 => 2, _ => 1 };
            byte[]? data = null;
            if (constant && elements < 4096)
            {
                data = new byte[elements * size + (random.Next(10) == 0 ? 1 : 0)];
                for (int k = 0; k < data.Length; k++) data[k] = (byte)random.Next(random.Next(2) == 0 ? 4 : 256);
            }

            float[]? scales = null;
            long[]? zeroPoints = null;
            int dimension = 0;
            if (t != 0 && random.Next(10) != 0)
            {
                int count = random.Next(4) == 0 && shape.Length > 0 ? Math.Max(1, shape[dimension = random.Next(shape.Length)]) : 1;
                scales = Enumerable.Range(0, count).Select(_ => random.Next(50) == 0 ? -1f : (float)random.NextDouble()).ToArray();
                zeroPoints = Enumerable.Range(0, random.Next(10) == 0 ? count + 1 : count).Select(_ => (long)(t == 7 && random.Next(10) != 0 ? 0 : random.Next(-128, 128))).ToArray();
            }

            return b.AddTensor(name, t, shape, data, scales, zeroPoints, dimension);
        }

        int inputCount = code switch
        {
            Builtin.Conv2D or Builtin.DepthwiseConv2D or Builtin.FullyConnected => random.Next(2, 4),
            Builtin.TransposeConv => random.Next(3, 5),
            Builtin.StridedSlice => 4,
            Builtin.Concatenation => random.Next(1, 4),
            Builtin.Add or Builtin.Sub or Builtin.Mul or Builtin.Maximum or Builtin.Minimum or Builtin.Pad or Builtin.Mean
                or Builtin.Transpose or Builtin.ExpandDims or Builtin.Reshape => 2,
            Builtin.PadV2 => 3,
            _ => 1,
        };
        if (random.Next(10) == 0) inputCount = random.Next(0, 5);
        var inputs = new int[inputCount];
        for (int k = 0; k < inputCount; k++)
        {
            bool descriptive = k > 0 && code is Builtin.Pad or Builtin.PadV2 or Builtin.Mean or Builtin.Transpose or Builtin.ExpandDims
                or Builtin.Reshape or Builtin.StridedSlice || (code == Builtin.TransposeConv && k == 0);
            if (descriptive && random.Next(8) != 0)
            {
                int length = random.Next(0, 9);
                var values = Enumerable.Range(0, length).Select(_ => random.Next(8) == 0 ? random.Next(-3, 3) : random.Next(0, 7)).ToArray();
                inputs[k] = b.AddTensor($"c{k}", random.Next(8) == 0 ? TensorTypes.Int64 : TensorTypes.Int32, new[] { length },
                    random.Next(8) == 0 ? null : (random.Next(2) == 0 ? Int32s(values) : Int64s(values.Select(v => (long)v).ToArray())));
            }
            else if (k > 0 && random.Next(10) == 0)
                inputs[k] = -1;
            else
                inputs[k] = Tensor($"in{k}", constant: k > 0 && random.Next(3) != 0);
        }

        int output = Tensor("out", constant: random.Next(20) == 0);
        int padding = random.Next(3), stride = random.Next(-1, 4), activation = random.Next(-1, 7);
        var options = random.Next(6) switch
        {
            0 => null,
            _ => code switch
            {
                Builtin.Conv2D => Options.Conv2D(padding, stride, random.Next(0, 3), activation, random.Next(0, 3), random.Next(1, 3)),
                Builtin.DepthwiseConv2D => Options.DepthwiseConv2D(padding, stride, random.Next(0, 3), random.Next(-1, 4), activation),
                Builtin.TransposeConv => Options.TransposeConv(padding, stride, random.Next(0, 3), activation),
                Builtin.AveragePool2D or Builtin.MaxPool2D => Options.Pool2D(padding, stride, random.Next(0, 3), random.Next(0, 4), random.Next(0, 4), activation),
                Builtin.FullyConnected => Options.FullyConnected(activation, random.Next(2) == 0, random.Next(5) == 0 ? 1 : 0),
                Builtin.Softmax => Options.Softmax((float)random.NextDouble()),
                Builtin.Concatenation => Options.Concatenation(random.Next(-5, 5), activation),
                Builtin.Add => Options.Add(activation, random.Next(2) == 0),
                Builtin.Sub => Options.Sub(activation),
                Builtin.Mul => Options.Mul(activation),
                Builtin.Reshape => Options.Reshape(Shape()),
                Builtin.Mean => Options.Reducer(random.Next(2) == 0),
                Builtin.Squeeze => Options.Squeeze(Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(-4, 4)).ToArray()),
                Builtin.StridedSlice => Options.StridedSlice(random.Next(16), random.Next(16), random.Next(8) == 0 ? 1 : 0, 0, random.Next(16), random.Next(4) == 0),
                Builtin.LeakyRelu => Options.LeakyRelu((float)random.NextDouble()),
                _ => random.Next(4) == 0 ? Options.Softmax(1) : null, // sometimes the wrong options table
            },
        };
        b.AddOperator(code, inputs, new[] { output }, options);
        if (inputCount > 0 && inputs[0] >= 0) b.Inputs.Add(inputs[0]);
        b.Outputs.Add(output);
        description = $"{TfliteSchema.BuiltinOperatorName(code)} type {type} inputs [{string.Join(",", inputs)}]";
        return b.Build();
    }
}
