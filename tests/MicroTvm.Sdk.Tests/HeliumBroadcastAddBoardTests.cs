using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The Helium broadcasting int8 ADD/SUB kernel (HeliumBroadcastAddKernel: gathers from the two tables, or from one
/// with the broadcast input's entry added to every lane) on the Cortex-M55 board: one-operator models whose inputs
/// broadcast along the channels, along everything but the channels, from a scalar and across ranks, with predicated
/// tails and a clamp; expected outputs from the reference evaluator on seeded random inputs.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class HeliumBroadcastAddBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void BroadcastAddGivesTheEvaluatorsOutputsOnTheBoard()
    {
        var random = new Random(1224);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium-badd-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        void Model(string name, int op, int[] a, int[] b, int[] output, int activation)
        {
            var m = new TfliteModelBuilder();
            int x = m.AddTensor("a", ElementType.Int8, a, quantization: (0.02f + 0.05f * (float)random.NextDouble(), random.Next(-128, 128)));
            int y = m.AddTensor("b", ElementType.Int8, b, quantization: (0.02f + 0.05f * (float)random.NextDouble(), random.Next(-128, 128)));
            int z = m.AddTensor("y", ElementType.Int8, output, quantization: (0.05f + 0.1f * (float)random.NextDouble(), random.Next(-128, 128)));
            m.Inputs.Add(x);
            m.Inputs.Add(y);
            m.Outputs.Add(z);
            m.AddOperator(op, [x, y], [z], op == Builtin.Add ? Options.Add(activation) : Options.Sub(activation));
            var graph = firmware.AddEvaluatedModel(name, m.Build(), t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            Assert.Contains("helium-broadcast-add", compiled.Files[compiled.MetadataFile], StringComparison.Ordinal);
        }

        Model("channels", Builtin.Add, [1, 8, 8, 16], [16], [1, 8, 8, 16], 0);             // both run along the channels
        Model("pixels", Builtin.Add, [1, 8, 8, 16], [1, 8, 8, 1], [1, 8, 8, 16], 1);       // one entry per pixel, ReLU
        Model("sub_rows", Builtin.Sub, [2, 3, 5, 7], [1, 3, 1, 7], [2, 3, 5, 7], 0);       // a tail of 3 lanes
        Model("ranks", Builtin.Add, [5], [3, 4, 1], [3, 4, 5], 0);                         // each input broadcast along a different axis
        Model("scalar", Builtin.Sub, [1, 1, 1, 1], [1, 6, 6, 9], [1, 6, 6, 9], 3);         // a scalar minus a tensor, RELU6

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium-badd-mps3-an547");
        firmware.RunAndAssertAllMatch(project, log);
    }
}
