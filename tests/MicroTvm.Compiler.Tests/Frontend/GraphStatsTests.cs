using System.Globalization;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Analysis;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Frontend;

public class GraphStatsTests
{
    /// <summary>MACs equal the figure each model's README states (counted there independently from the TFLite file).</summary>
    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void MacsMatchTheReadme(string model)
    {
        var readme = File.ReadAllText(Path.Combine(TestModels.Folder(model), "README.md"));
        var match = Regex.Match(readme, @"MACs per inference: \*\*([0-9,]+)\*\*");
        Assert.True(match.Success, "README states the MACs");
        long expected = long.Parse(match.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture);
        var stats = GraphStats.Compute(TfliteImporter.Load(TestModels.ModelPath(model)));
        Assert.Equal(expected, stats.TotalMacs);
    }

    [Theory]
    [InlineData("kws_dscnn", 2_656_768, 16_000)]
    [InlineData("ic_resnet8", 12_501_632, 49_152)]
    [InlineData("ad_toycar_int8io", 264_192, 768)]
    [InlineData("micro_speech", 336_000, -1)]
    [InlineData("hello_world_int8", 288, -1)]
    public void KnownFigures(string model, long macs, long activationBound)
    {
        var stats = GraphStats.Compute(TfliteImporter.Load(TestModels.ModelPath(model)));
        Assert.Equal(macs, stats.TotalMacs);
        if (activationBound >= 0) Assert.Equal(activationBound, stats.ActivationLowerBound);
    }

    [Fact]
    public void ParameterBytesAreTheConstantOperands()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("hello_world_float"));
        // 1->16->16->1 float32: weights 16 + 256 + 16, biases 16 + 16 + 1, all 4 bytes each.
        Assert.Equal((16 + 256 + 16 + 16 + 16 + 1) * 4, GraphStats.ParameterBytes(graph));
    }

    [Fact]
    public void LowerBoundKeepsGraphInputsAndOutputsLive()
    {
        // x(100 B) -> relu -> a(100) -> relu -> b(100) -> relu -> y(100), with x also an output.
        Tensor T(int id) => new(id, $"t{id}", ElementType.Int8, new[] { 100 });
        var (x, a, b, y) = (T(0), T(1), T(2), T(3));
        var nodes = new[]
        {
            new Node(0, OpKind.Relu, NoAttributes.Instance, new[] { x }, new[] { a }),
            new Node(1, OpKind.Relu, NoAttributes.Instance, new[] { a }, new[] { b }),
            new Node(2, OpKind.Relu, NoAttributes.Instance, new[] { b }, new[] { y }),
        };
        var chain = new Graph("g", new[] { x, a, b, y }, nodes, new[] { x }, new[] { y });
        Assert.Equal(200, GraphStats.ActivationLowerBound(chain)); // x dies after op 0

        var keepInput = new Graph("g", new[] { x, a, b, y }, nodes, new[] { x }, new[] { y, x });
        Assert.Equal(300, GraphStats.ActivationLowerBound(keepInput));
        Assert.Equal((0, 2), GraphStats.LiveRanges(keepInput)[x]);
        Assert.Equal((1, 2), GraphStats.LiveRanges(keepInput)[b]);
    }
}
