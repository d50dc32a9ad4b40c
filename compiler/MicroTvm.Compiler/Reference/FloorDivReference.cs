using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>FLOOR_DIV and FLOOR_MOD on float32 as TFLite Micro computes them, with broadcasting. A zero divisor
/// (which TFLM refuses at run time) gives IEEE results: ±inf or NaN.</summary>
internal static class FloorDivReference
{
    public static void Evaluate(Node node, TensorValues values, Func<float, float, float> operation)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (a.Type != ElementType.Float32 || b.Type != ElementType.Float32 || output.Type != ElementType.Float32) throw ReferenceErrors.Unsupported(node);
        var (x, y) = (Broadcast.To(values.Floats(a), a.Shape, output.Shape), Broadcast.To(values.Floats(b), b.Shape, output.Shape));
        values.SetFloats(output, Enumerable.Range(0, x.Length).Select(i => operation(x[i], y[i])).ToArray());
    }

    /// <summary>floor(a / b) with the quotient and its floor in double, then rounded to float.</summary>
    public static float Divide(float a, float b) => (float)Math.Floor((double)a / b);

    /// <summary>fmod(a, b) (exact, a's sign), moved to b's sign when they differ: TFLite's FloorMod.</summary>
    public static float Modulo(float a, float b)
    {
        float truncated = a % b;
        return truncated != 0f && (b < 0f) != (truncated < 0f) ? truncated + b : truncated;
    }
}
