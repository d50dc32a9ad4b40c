using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The Helium int16 ADD/SUB kernel (HeliumAdd16Kernel) on the Cortex-M55 board, where the MVE instructions run instead
/// of their host emulation: one-operator models of the same shape, broadcasting along the inner and the outer
/// dimensions, tails of 1..7 lanes, ReLU/RELU6/RELU_N1_TO_1 clamps, SUB, power-of-two scales, an output rounding that ties on every odd difference, expected outputs from
/// the reference evaluator on seeded random inputs; and TFLM's add_i16*/sub_i16* cases of tests/operators against
/// TFLM's outputs. Three layers also run compiled with the portable kernel, for the instruction counts side by side.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class HeliumAdd16BoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void Add16GivesTheEvaluatorsAndTflmsOutputsOnTheBoard()
    {
        var random = new Random(1318);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium-add16-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        var names = new List<string>();
        void Model(string name, int op, int[] a, int[] b, int[] output, int activation, (float A, float B, float Out)? scales = null)
        {
            var (sa, sb, so) = scales ?? (0.0002f + 0.0004f * (float)random.NextDouble(), 0.0002f + 0.0004f * (float)random.NextDouble(), 0.0005f + 0.001f * (float)random.NextDouble());
            var m = new TfliteModelBuilder();
            int x = m.AddTensor("a", ElementType.Int16, a, quantization: (sa, 0));
            int y = m.AddTensor("b", ElementType.Int16, b, quantization: (sb, 0));
            int z = m.AddTensor("y", ElementType.Int16, output, quantization: (so, 0));
            m.Inputs.Add(x);
            m.Inputs.Add(y);
            m.Outputs.Add(z);
            m.AddOperator(op, [x, y], [z], op == Builtin.Add ? Options.Add(activation, potScaleInt16: false) : Options.Sub(activation, potScaleInt16: false));
            var graph = firmware.AddEvaluatedModel(name, m.Build(), t => Enumerable.Range(0, (int)t.ElementCount * 2).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            Assert.Contains("helium-add16", compiled.Files[compiled.MetadataFile], StringComparison.Ordinal);
            names.Add(name);
        }

        Model("same", Builtin.Add, [1, 8, 8, 16], [1, 8, 8, 16], [1, 8, 8, 16], 0);
        Model("sub_same", Builtin.Sub, [1, 10, 10, 8], [1, 10, 10, 8], [1, 10, 10, 8], 0);
        Model("outer", Builtin.Add, [1, 8, 8, 16], [16], [1, 8, 8, 16], 1);                 // b along the channels only, ReLU
        Model("inner", Builtin.Sub, [1, 8, 8, 16], [1, 8, 8, 1], [1, 8, 8, 16], 3);         // b one entry per pixel, RELU6
        Model("rows", Builtin.Add, [2, 3, 5, 7], [1, 3, 1, 7], [2, 3, 5, 7], 2);            // rows of 7: a tail of 3, RELU_N1_TO_1
        Model("scalar", Builtin.Sub, [1, 1, 1, 1], [1, 6, 6, 9], [1, 6, 6, 9], 0);          // a scalar minus a tensor
        Model("pot", Builtin.Add, [1, 8, 8, 16], [1, 8, 8, 16], [1, 8, 8, 16], 0, (1f / 4096, 1f / 8192, 1f / 2048));
        Model("halves", Builtin.Sub, [1, 8, 8, 16], [1, 8, 8, 16], [1, 8, 8, 16], 0, (0.0003f, 0.0003f, 0.0006f));     // every odd difference a tie of the output's rounding
        Model("fine", Builtin.Add, [1, 8, 8, 16], [1, 8, 8, 16], [1, 8, 8, 16], 0, (0.001f, 0.001f / 65536, 0.0015f)); // b: multiplier 2^30, right shift 16: not the one-VSHL form
        for (int n = 1; n <= 7; n++)
            Model($"tail{n}", n % 2 == 0 ? Builtin.Sub : Builtin.Add, [n], [n], [n], n % 4);
        foreach (var name in new[] { "same", "outer", "pot" })
            firmware.AddGenerated(name, new CompileOptions("cortex-m55", name + "_portable", PortableKernels: true), "portable");

        string operators = Path.Combine(sdk.RepositoryRoot, "tests", "operators");
        foreach (var name in new[] { "add_i16", "add_i16_broadcast", "add_i16_pot", "sub_i16", "sub_i16_broadcast" })
        {
            firmware.AddOperatorCase(operators, name);
            var compiled = ModelCompiler.Compile(TfliteImporter.Load(Path.Combine(operators, name, "model.tflite")), new CompileOptions("cortex-m55", name));
            Assert.Contains("helium-add16", compiled.Files[compiled.MetadataFile], StringComparison.Ordinal);
        }

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium-add16-mps3-an547");
        var instructions = firmware.RunAndAssertAllMatch(project, log);
        log.WriteLine(string.Join(", ", instructions));
    }
}
