using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Operators;

/// <summary>What TFLM's oracle cannot show for FLOOR_DIV/FLOOR_MOD: TFLite Micro fails a run on a zero divisor, so a
/// constant divisor with a zero is refused when the model is compiled (MTVM1070), naming the element.</summary>
public class FloorModTests
{
    [Theory]
    [InlineData(90)]  // FLOOR_DIV
    [InlineData(95)]  // FLOOR_MOD
    public void A_constant_zero_divisor_is_refused(int builtin)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 2, 3 });
        int d = b.AddTensor("d", ElementType.Float32, new[] { 3 }, TfliteModelBuilder.Floats(2f, -0f, 1.5f));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 2, 3 });
        b.AddOperator(builtin, new[] { x, d }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Assert.Throws<Diagnostics.CompilerException>(() => TfliteImporter.Load(b.Build(), "floor.tflite"));
        Assert.Equal("MTVM1070", e.Code);
        Assert.Contains("zero at element 1", e.Message);
    }
}
