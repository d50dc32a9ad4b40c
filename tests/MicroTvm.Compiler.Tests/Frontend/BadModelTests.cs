using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>Each kind of bad input gives its own MTVM code, names the file and, where there is one, the operator.</summary>
public class BadModelTests
{
    private const string FileName = "bad.tflite";

    private static CompilerException Import(byte[] bytes) =>
        Assert.Throws<CompilerException>(() => TfliteImporter.Load(bytes, FileName));

    private static byte[] Kws() => File.ReadAllBytes(TestModels.ModelPath("kws_dscnn"));

    /// <summary>x --RELU--> y, int8, a valid model the tests then break one way or another.</summary>
    private static TfliteModelBuilder ReluModel(out int x, out int y)
    {
        var b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        return b;
    }

    [Fact]
    public void WellFormedBuilderModelLoads()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        var graph = TfliteImporter.Load(b.Build(), FileName);
        Assert.Equal(OpKind.Relu, Assert.Single(graph.Nodes).Kind);
    }

    /// <summary>x -RELU-> a -VendorA-> b -RELU-> c -VendorB-> y: operators 1 and 3 are custom operators.</summary>
    public static byte[] TwoCustomOperators() => Int8Chain(null, "VendorA", null, "VendorB");

    [Fact]
    public void EveryFailingOperatorIsReportedAtOnce()
    {
        var e = Import(TwoCustomOperators());
        var all = e.All.ToList();
        Assert.Equal(new int?[] { 1, 3 }, all.Select(x => x.OperatorIndex));
        Assert.All(all, x => Assert.Equal(ErrorCodes.UnsupportedOperator, x.Code));
        Assert.All(all, x => Assert.Equal(FileName, x.File));
        Assert.Contains("VendorA", all[0].Message);
        Assert.Contains("VendorB", all[1].Message);
    }

    [Fact]
    public void MissingFile()
    {
        var e = Assert.Throws<CompilerException>(() => TfliteImporter.Load(Path.Combine(Path.GetTempPath(), "no-such-dir", "none.tflite")));
        Assert.Equal(ErrorCodes.ModelFileUnreadable, e.Code);
        Assert.EndsWith("none.tflite", e.File);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(20000)]
    public void TruncatedFile(int length)
    {
        var e = Import(Kws()[..length]);
        Assert.Equal(ErrorCodes.MalformedModel, e.Code);
        Assert.Equal(FileName, e.File);
    }

    [Fact]
    public void RandomBytes()
    {
        var bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);
        Assert.Equal(ErrorCodes.NotATfliteModel, Import(bytes).Code);

        "TFL3"u8.CopyTo(bytes.AsSpan(4));
        var e = Import(bytes);
        Assert.Equal(ErrorCodes.MalformedModel, e.Code);
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void WrongFileIdentifier()
    {
        var bytes = Kws();
        "XXXX"u8.CopyTo(bytes.AsSpan(4));
        var e = Import(bytes);
        Assert.Equal(ErrorCodes.NotATfliteModel, e.Code);
        Assert.Contains("'XXXX'", e.Message);
        Assert.Equal($"{FileName}: error MTVM1003: {e.Message}", e.ToString());
    }

    [Fact]
    public void UnsupportedSchemaVersion()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        b.Version = 2;
        Assert.Equal(ErrorCodes.NotATfliteModel, Import(b.Build()).Code);
    }

    [Fact]
    public void RootOffsetOutsideTheFile()
    {
        var bytes = Kws();
        BitConverter.GetBytes(0x7FFFFF00u).CopyTo(bytes, 0);
        Assert.Equal(ErrorCodes.MalformedModel, Import(bytes).Code);
    }

    [Fact]
    public void VectorLengthBeyondTheFile()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        var bytes = b.Build();
        // The description string is "built by TfliteModelBuilder": find its length prefix and make it huge.
        int at = IndexOf(bytes, "built by"u8.ToArray()) - 4;
        BitConverter.GetBytes(0x40000000u).CopyTo(bytes, at);
        var e = Import(bytes);
        Assert.Equal(ErrorCodes.MalformedModel, e.Code);
        Assert.Contains("beyond the end", e.Message);
    }

    [Fact]
    public void VtableOutsideTheFile()
    {
        var bytes = Kws();
        int root = BitConverter.ToInt32(bytes, 0);
        BitConverter.GetBytes(-0x100000).CopyTo(bytes, root); // soffset pointing past the end
        Assert.Equal(ErrorCodes.MalformedModel, Import(bytes).Code);
    }

    [Fact]
    public void DanglingTensorReference()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { 99 }, new[] { y });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("RELU", e.OperatorName);
        Assert.Contains("tensor 99", e.Message);
    }

    [Fact]
    public void TensorNobodyProduces()
    {
        var b = ReluModel(out int x, out int y);
        int orphan = b.AddTensor("orphan", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        int z = b.AddTensor("z", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        b.AddOperator(Builtin.Add, new[] { y, orphan }, new[] { z });
        b.Outputs[0] = z;
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Equal(1, e.OperatorIndex);
        Assert.Contains("orphan", e.Message);
    }

    [Fact]
    public void CyclicTensorReferences()
    {
        var b = ReluModel(out int x, out int y);
        int a = b.AddTensor("a", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        int c = b.AddTensor("c", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        b.AddOperator(Builtin.Add, new[] { x, c }, new[] { a });
        b.AddOperator(Builtin.Relu, new[] { a }, new[] { c });
        b.AddOperator(Builtin.Relu, new[] { a }, new[] { y });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Contains("cycle", e.Message);
        Assert.NotNull(e.OperatorIndex);
    }

    [Fact]
    public void OperatorReadingItsOwnOutput()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Add, new[] { x, y }, new[] { y });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Equal(0, e.OperatorIndex);
    }

    [Fact]
    public void TensorWrittenTwice()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        b.AddOperator(Builtin.Relu6, new[] { x }, new[] { y });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Equal(1, e.OperatorIndex);
    }

    [Theory]
    [InlineData(new[] { 65536, 65536, 2 })]
    [InlineData(new[] { int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue })]
    [InlineData(new[] { 1, -1, 4 })]
    public void OverflowingOrDynamicShape(int[] shape)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, shape);
        int y = b.AddTensor("y", ElementType.Float32, shape);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidShape, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal(FileName, e.File);
    }

    [Fact]
    public void DeclaredShapeDisagreesWithInferred()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 8, 8, 3 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 8, 8, 3 });
        b.AddOperator(Builtin.MaxPool2D, new[] { x }, new[] { y }, Options.Pool2D(Options.Valid, 2, 2, 2, 2));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidShape, e.Code);
        Assert.Contains("[1,4,4,3]", e.Message);
    }

    [Fact]
    public void ZeroStride()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 8, 8, 3 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 4, 4, 3 });
        b.AddOperator(Builtin.MaxPool2D, new[] { x }, new[] { y }, Options.Pool2D(Options.Valid, 0, 2, 2, 2));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidOperator, e.Code);
        Assert.Equal("MAX_POOL_2D", e.OperatorName);
    }

    [Fact]
    public void UnsupportedBuiltinOperator()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        int z = b.AddTensor("z", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0));
        b.AddOperator(Builtin.Gelu, new[] { y }, new[] { z });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal(1, e.OperatorIndex);
        Assert.Equal("GELU", e.OperatorName);
        Assert.Contains("GELU is not supported", e.Message);
        foreach (var name in new[] { "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "HARD_SWISH", "STRIDED_SLICE" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void CustomOperator()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Custom, new[] { x }, new[] { y }, customCode: "TFLite_Detection_PostProcess");
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Contains("TFLite_Detection_PostProcess", e.Message);
    }

    [Fact]
    public void OperatorCodeIndexOutOfRange()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperatorWithCodeIndex(7, new[] { x }, new[] { y });
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.MalformedModel, e.Code);
        Assert.Equal(0, e.OperatorIndex);
    }

    [Fact]
    public void UnknownElementType()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", TensorTypes.Float16, new[] { 1, 4 });
        int y = b.AddTensor("y", TensorTypes.Float16, new[] { 1, 4 });
        b.AddOperator(Builtin.Add, new[] { x, x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.UnsupportedElementType, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("ADD", e.OperatorName);
        Assert.Contains("float16", e.Message);
    }

    [Fact]
    public void ElementTypeTheOperatorDoesNotSupport()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int32, new[] { 1, 4 });
        int y = b.AddTensor("y", ElementType.Int32, new[] { 1, 4 });
        b.AddOperator(Builtin.Logistic, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.UnsupportedElementType, e.Code);
        Assert.Equal("LOGISTIC", e.OperatorName);
        Assert.Contains("int32", e.Message);
        Assert.Contains("supports float32, int8, int16", e.Message);
    }

    [Theory]
    [InlineData(Builtin.Add, 4, "TANH")]
    [InlineData(Builtin.Mul, 5, "SIGN_BIT")]
    [InlineData(Builtin.Concatenation, 1, "RELU")]
    public void UnsupportedFusedActivation(int code, int activation, string name)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, code == Builtin.Concatenation ? 8 : 4 });
        var options = code switch
        {
            Builtin.Add => Options.Add(activation),
            Builtin.Mul => Options.Mul(activation),
            _ => Options.Concatenation(1, activation),
        };
        b.AddOperator(code, new[] { x, x }, new[] { y }, options);
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.UnsupportedFeature, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Contains($"fused activation {name}", e.Message);
    }

    [Fact]
    public void EmptyTensor()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 0 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 0 });
        b.AddOperator(Builtin.Softmax, new[] { x }, new[] { y }, Options.Softmax(1));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidShape, e.Code);
        Assert.Contains("zero-sized", e.Message);
    }

    [Fact]
    public void ConcatenationThatWouldNeedRequantizing()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, -1));
        int z = b.AddTensor("z", ElementType.Int8, new[] { 1, 4 }, quantization: (0.25f, -1));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 8 }, quantization: (0.5f, -1));
        b.AddOperator(Builtin.Concatenation, new[] { x, z }, new[] { y }, Options.Concatenation(1));
        b.Inputs.Add(x);
        b.Inputs.Add(z);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidQuantization, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Contains("does not requantize", e.Message);
    }

    [Fact]
    public void MissingQuantization()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 });
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4 });
        b.AddOperator(Builtin.Logistic, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        Assert.Equal(ErrorCodes.InvalidQuantization, Import(b.Build()).Code);
    }

    [Fact]
    public void ConstantDataOfTheWrongSize()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 2, 4 }, Floats(1, 2, 3));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, -1 }, new[] { y }, Options.FullyConnected());
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Import(b.Build());
        Assert.Equal(ErrorCodes.InvalidConstantData, e.Code);
        Assert.Equal(0, e.OperatorIndex);
    }

    [Fact]
    public void BufferIndexOutOfRange()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4 });
        int w = b.AddTensor("w", TensorTypes.Float32, new[] { 2, 4 }, bufferIndex: 42);
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, -1 }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        Assert.Equal(ErrorCodes.InvalidConstantData, Import(b.Build()).Code);
    }

    [Fact]
    public void UnreferencedExtraSubgraphsAreIgnored()
    {
        var b = ReluModel(out int x, out int y);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { y });
        b.ExtraSubGraphs = 2;
        Assert.Single(TfliteImporter.Load(b.Build(), FileName).Nodes);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
