using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// CAST as TFLite Micro's static_cast: integers narrow modulo 2^bits, bool is 0 or 1, integers become the nearest float;
/// float to an integer truncates toward zero through int32, where a value outside int32 (or NaN) is INT32_MIN, as
/// x86-64 converts it (the TFLM the oracle ran; C leaves it undefined), then narrows modulo 2^bits.
/// </summary>
internal static class CastReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (output.Type == ElementType.Float32)
        {
            values.SetFloats(output, input.Type == ElementType.Float32 ? values.Floats(input) : Array.ConvertAll(values.Ints(input), v => (float)v));
            return;
        }

        int[] wide = input.Type == ElementType.Float32 ? Array.ConvertAll(values.Floats(input), Truncate) : values.Ints(input);
        values.SetInts(output, output.Type switch
        {
            ElementType.Int8 => Array.ConvertAll(wide, v => (int)unchecked((sbyte)v)),
            ElementType.Int16 => Array.ConvertAll(wide, v => (int)unchecked((short)v)),
            ElementType.Int32 => wide,
            _ => throw ReferenceErrors.Unsupported(node),
        });
    }

    /// <summary>float to int32 toward zero; INT32_MIN outside the range and for NaN.</summary>
    public static int Truncate(float x) => x >= -2147483648.0f && x < 2147483648.0f ? (int)x : int.MinValue;
}
