using System.Globalization;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>Every shared model imports, and what it imports agrees with TFLM's own record of the model (intermediates0/index.csv, README).</summary>
public class TfliteImporterModelTests
{
    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void ActivationTensorsMatchTflmIndex(string model)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(model));
        var byId = graph.Tensors.ToDictionary(t => t.Id);
        var producers = graph.Producers();
        var rows = File.ReadAllLines(Path.Combine(TestModels.Folder(model), "intermediates0", "index.csv")).Skip(1).Select(ParseCsv).ToList();
        Assert.NotEmpty(rows);
        var activationIds = graph.Tensors.Where(t => !t.IsConstant).Select(t => t.Id).Order().ToArray();
        Assert.Equal(rows.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)).Order().ToArray(), activationIds);

        foreach (var row in rows)
        {
            var tensor = byId[int.Parse(row[0], CultureInfo.InvariantCulture)];
            Assert.Equal(row[1], tensor.Name);
            Assert.Equal(row[2], tensor.Type.DisplayName());
            Assert.Equal(row[3], string.Join("x", tensor.Shape));
            if (row[4].Length > 0)
            {
                Assert.NotNull(tensor.Quantization);
                Assert.Equal(double.Parse(row[4], CultureInfo.InvariantCulture), tensor.Quantization!.Scale, 12);
                Assert.Equal(long.Parse(row[5], CultureInfo.InvariantCulture), tensor.Quantization.ZeroPoints[0]);
            }

            int producer = int.Parse(row[6], CultureInfo.InvariantCulture);
            if (producer < 0)
            {
                Assert.Contains(tensor, graph.Inputs);
            }
            else if (row[7].EndsWith("(state)", StringComparison.Ordinal))
            {
                // A variable tensor: TFLM names the operator that reads and updates it.
                Assert.True(tensor.IsVariable, $"{tensor} is listed as state");
                var reader = graph.Nodes.Single(n => n.Index == producer);
                Assert.Contains(tensor, reader.Inputs);
                Assert.Equal(row[7], reader.Kind.Name + "(state)");
            }
            else
            {
                Assert.Equal(producer, producers[tensor].Index);
                Assert.Equal(row[7], producers[tensor].Kind.Name);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void InputsAndOutputsMatchTheStoredVectors(string model)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(model));
        Assert.Equal(Path.GetFileNameWithoutExtension(TestModels.ModelPath(model)), graph.Name);
        // Each vector holds every input (output) back to back, in the graph's order.
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(new FileInfo(Path.Combine(TestModels.Folder(model), $"input{k}.bin")).Length, graph.Inputs.Sum(t => t.ByteSize));
            Assert.Equal(new FileInfo(Path.Combine(TestModels.Folder(model), $"output{k}.bin")).Length, graph.Outputs.Sum(t => t.ByteSize));
        }
    }

    [Fact]
    public void KwsOperatorsHaveTheirOptions()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("kws_dscnn"));
        Assert.Equal(13, graph.Nodes.Count);
        var first = graph.Nodes[0];
        Assert.Equal(OpKind.Conv2D, first.Kind);
        var conv = first.AttributesAs<Conv2DAttributes>();
        Assert.Equal((2, 2, 1, 1), (conv.StrideH, conv.StrideW, conv.DilationH, conv.DilationW));
        Assert.Equal(FusedActivation.Relu, conv.Activation);
        Assert.Equal(3, first.Inputs.Count);
        Assert.Equal(new[] { 64, 10, 4, 1 }, first.Input(1).Shape);
        Assert.True(first.Input(1).Quantization!.IsPerChannel);
        Assert.Equal(64, first.Input(1).Quantization!.Scales.Count);
        Assert.Equal(ElementType.Int32, first.Input(2).Type);

        var dw = graph.Nodes[1].AttributesAs<DepthwiseConv2DAttributes>();
        Assert.Equal(1, dw.DepthMultiplier);
        Assert.Equal(3, graph.Nodes[1].Input(1).Quantization!.QuantizedDimension);

        var pool = graph.Nodes[9].AttributesAs<Pool2DAttributes>();
        Assert.Equal(OpKind.AveragePool2D, graph.Nodes[9].Kind);
        Assert.Equal((25, 5), (pool.FilterH, pool.FilterW));

        var reshape = graph.Nodes[10];
        Assert.Single(reshape.Inputs);
        Assert.Equal(new[] { 1, 64 }, reshape.AttributesAs<ReshapeAttributes>().NewShape);
        Assert.Equal(1f, graph.Nodes[12].AttributesAs<SoftmaxAttributes>().Beta);
    }

    [Fact]
    public void ModelHeaderIsRead()
    {
        var model = TfliteModel.Read(File.ReadAllBytes(TestModels.ModelPath("kws_dscnn")));
        Assert.Equal(3u, model.Version);
        Assert.Equal("MLIR Converted.", model.Description);
        Assert.Single(model.SubGraphs);
        Assert.Equal(0, model.Buffers[0].Length);
        Assert.Contains(model.OperatorCodes, c => c.Name == "CONV_2D");
    }

    private static string[] ParseCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char c in line)
        {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }

        fields.Add(current.ToString());
        return fields.ToArray();
    }
}
